//! The interface's two languages: [`Lang`], its negotiation from
//! `Accept-Language`, and every label of the interface in [`Texts`] (one
//! `static` per language, so a label missing in one language does not compile).
//! Dictionary texts (descriptions, help) are not here: they come from the
//! dictionaries and their translation file.

use std::fmt;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// French, the default: the servers are French schools'.
    #[default]
    Fr,
    En,
}

impl Lang {
    /// Every language, in the order of the switch.
    pub const ALL: [Self; 2] = [Self::Fr, Self::En];

    /// The BCP 47 code (`fr`, `en`), also the value posted by the switch.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The language's own name, shown in the switch.
    #[must_use]
    pub const fn native_name(self) -> &'static str {
        match self {
            Self::Fr => "Français",
            Self::En => "English",
        }
    }

    /// Parse a code as posted by the switch (`fr`, `en`, case-insensitive, region ignored).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Some(Self::Fr)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The preferred language of an `Accept-Language` header: the supported
    /// language with the highest quality, the first listed on a tie; `None`
    /// when the header names neither.
    #[must_use]
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(Self, u16)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let mut quality = 1000_u16;
            for param in parts {
                if let Some(q) = param.trim().strip_prefix("q=") {
                    quality = parse_quality(q).unwrap_or(0);
                }
            }
            let Some(lang) = Self::from_code(tag) else {
                continue;
            };
            if quality == 0 {
                continue;
            }
            if best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The labels of the interface in this language.
    #[must_use]
    pub const fn texts(self) -> &'static Texts {
        match self {
            Self::Fr => &FR,
            Self::En => &EN,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// `q=0.8` → 800 (thousandths), as RFC 9110 allows at most three decimals.
fn parse_quality(text: &str) -> Option<u16> {
    let text = text.trim();
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0_u16;
    let mut scale = 100_u16;
    for digit in frac.bytes() {
        thousandths += u16::from(digit - b'0') * scale;
        scale /= 10;
    }
    let value = whole + thousandths;
    (value <= 1000).then_some(value)
}

/// Every label of the interface. Placeholders `{}` are filled with
/// [`fill`] (values are escaped by the templates, not here).
#[derive(Debug)]
pub struct Texts {
    pub lang_switch: &'static str,
    pub skip_to_content: &'static str,
    pub app_subtitle: &'static str,
    pub nav_label: &'static str,
    pub nav_config: &'static str,
    pub nav_changes: &'static str,
    pub nav_apply: &'static str,
    pub signed_in_as: &'static str,
    pub logout: &'static str,

    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub login_user: &'static str,
    pub login_password: &'static str,
    pub login_submit: &'static str,
    pub login_failed: &'static str,
    pub login_rate_limited: &'static str,
    pub login_session_expired: &'static str,
    pub logged_out: &'static str,

    pub config_title: &'static str,
    pub families_label: &'static str,
    pub mode_label: &'static str,
    pub mode_basic: &'static str,
    pub mode_standard: &'static str,
    pub mode_advanced: &'static str,
    pub mode_show: &'static str,
    pub mandatory_mark: &'static str,
    pub mandatory_legend: &'static str,
    pub read_only: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none_choice: &'static str,
    pub secret_set: &'static str,
    pub secret_unset: &'static str,
    pub secret_keep: &'static str,
    pub add_value: &'static str,
    pub remove_value: &'static str,
    pub add_row: &'static str,
    pub remove_row: &'static str,
    pub row_number: &'static str,
    pub no_rows: &'static str,
    pub add_instance: &'static str,
    pub add_instance_label: &'static str,
    pub remove_instance: &'static str,
    pub refresh: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub saved_nothing: &'static str,
    pub not_saved_yet: &'static str,
    pub errors_title: &'static str,
    pub errors_intro: &'static str,
    pub stale_title: &'static str,
    pub stale_message: &'static str,
    pub stale_reload: &'static str,
    pub save_busy: &'static str,
    pub nothing_to_show: &'static str,
    pub default_value: &'static str,
    pub reset_default: &'static str,
    pub help: &'static str,
    pub item_error: &'static str,
    pub cell_label: &'static str,
    pub general_tab: &'static str,
    pub examples: &'static str,
    pub identifier_required: &'static str,
    pub identifier_exists: &'static str,

    pub changes_title: &'static str,
    pub changes_intro: &'static str,
    pub changes_none: &'static str,
    pub changes_never_applied: &'static str,
    pub changes_variable: &'static str,
    pub changes_applied: &'static str,
    pub changes_current: &'static str,
    pub changes_added: &'static str,
    pub changes_removed: &'static str,
    pub changes_apply_now: &'static str,
    pub secret_changed: &'static str,

    pub apply_title: &'static str,
    pub apply_intro: &'static str,
    pub apply_button: &'static str,
    pub apply_plan: &'static str,
    pub apply_log: &'static str,
    pub apply_status: &'static str,
    pub apply_idle: &'static str,
    pub apply_running: &'static str,
    pub apply_succeeded: &'static str,
    pub apply_failed: &'static str,
    pub apply_busy: &'static str,
    pub apply_started_by: &'static str,
    pub apply_no_plan: &'static str,
    pub apply_live: &'static str,

    pub error_title: &'static str,
    pub error_not_found: &'static str,
    pub error_internal: &'static str,
    pub error_csrf: &'static str,
    pub error_too_large: &'static str,
    pub error_malformed: &'static str,
    pub error_unauthenticated: &'static str,
    pub error_back: &'static str,
}

/// Fill the `{}` placeholders of a label, in order.
#[must_use]
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut args = args.iter();
    let mut rest = template;
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(args.next().copied().unwrap_or_default());
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

pub static EN: Texts = Texts {
    lang_switch: "Language",
    skip_to_content: "Skip to content",
    app_subtitle: "server configuration",
    nav_label: "Main menu",
    nav_config: "Configuration",
    nav_changes: "Changes not applied",
    nav_apply: "Apply",
    signed_in_as: "Signed in as {}",
    logout: "Sign out",

    login_title: "Sign in",
    login_intro: "Sign in to configure this server.",
    login_user: "User name",
    login_password: "Password",
    login_submit: "Sign in",
    login_failed: "Unknown user or wrong password.",
    login_rate_limited: "Too many failed attempts: try again in {} minutes.",
    login_session_expired: "Your session expired: please sign in again.",
    logged_out: "You are signed out.",

    config_title: "Configuration",
    families_label: "Families",
    mode_label: "Mode",
    mode_basic: "basic",
    mode_standard: "standard",
    mode_advanced: "advanced",
    mode_show: "Show",
    mandatory_mark: "required",
    mandatory_legend: "Fields marked * are required.",
    read_only: "read-only",
    yes: "yes",
    no: "no",
    none_choice: "(none)",
    secret_set: "A value is set; leave empty to keep it.",
    secret_unset: "No value set yet.",
    secret_keep: "(unchanged)",
    add_value: "Add a value",
    remove_value: "Remove",
    add_row: "Add a row",
    remove_row: "Remove row {}",
    row_number: "Row",
    no_rows: "No row yet.",
    add_instance: "Add",
    add_instance_label: "New identifier ({})",
    remove_instance: "Remove {}",
    refresh: "Check",
    save: "Save",
    saved: "Saved. The changes take effect when you apply them.",
    saved_nothing: "Nothing changed: nothing was saved.",
    not_saved_yet: "Not saved yet: this page shows values you have not saved.",
    errors_title: "The configuration has errors",
    errors_intro: "Nothing was saved. Fix the fields below:",
    stale_title: "The configuration changed meanwhile",
    stale_message: "Someone saved the configuration after you opened this page. Your changes were not saved, so that theirs are not overwritten.",
    stale_reload: "Reload the current configuration",
    save_busy: "Another brise run (an apply, or a change from the command line) is changing this server: nothing was saved. Your changes are kept on this page: save again when it has finished.",
    nothing_to_show: "Nothing to show in this mode.",
    default_value: "default",
    reset_default: "Back to default",
    help: "Help",
    item_error: "value {}: {}",
    cell_label: "{} › {}, row {}",
    general_tab: "General",
    examples: "Examples: {}",
    identifier_required: "type the identifier to add",
    identifier_exists: "`{}` is already in the list",

    changes_title: "Changes not applied yet",
    changes_intro: "What the saved configuration changes compared with the last successful apply.",
    changes_none: "The saved configuration is the one applied last.",
    changes_never_applied: "The configuration has never been applied on this server: everything will be applied.",
    changes_variable: "Setting",
    changes_applied: "Applied",
    changes_current: "Saved",
    changes_added: "(new)",
    changes_removed: "(removed)",
    changes_apply_now: "Apply now",
    secret_changed: "(secret changed)",

    apply_title: "Apply the configuration",
    apply_intro: "Renders the configuration files and converges the containers to the saved configuration. Unsaved changes are not applied.",
    apply_button: "Apply the configuration",
    apply_plan: "Plan",
    apply_log: "Log",
    apply_status: "Status",
    apply_idle: "No apply has run since the server started.",
    apply_running: "Applying…",
    apply_succeeded: "Applied successfully.",
    apply_failed: "The apply failed: {}",
    apply_busy: "An apply is already running: wait for it to end.",
    apply_started_by: "Started by {}",
    apply_no_plan: "Nothing to do.",
    apply_live: "The log updates by itself.",

    error_title: "Error",
    error_not_found: "This page does not exist.",
    error_internal: "Something went wrong on the server. The details are in the server log.",
    error_csrf: "The form has expired or did not come from this site. Reload the page and try again.",
    error_too_large: "The form sent is too large.",
    error_malformed: "The request is malformed.",
    error_unauthenticated: "Please sign in.",
    error_back: "Back",
};

pub static FR: Texts = Texts {
    lang_switch: "Langue",
    skip_to_content: "Aller au contenu",
    app_subtitle: "configuration du serveur",
    nav_label: "Menu principal",
    nav_config: "Configuration",
    nav_changes: "Modifications non appliquées",
    nav_apply: "Appliquer",
    signed_in_as: "Connecté en tant que {}",
    logout: "Se déconnecter",

    login_title: "Connexion",
    login_intro: "Connectez-vous pour configurer ce serveur.",
    login_user: "Nom d’utilisateur",
    login_password: "Mot de passe",
    login_submit: "Se connecter",
    login_failed: "Utilisateur inconnu ou mot de passe incorrect.",
    login_rate_limited: "Trop d’échecs : réessayez dans {} minutes.",
    login_session_expired: "Votre session a expiré : reconnectez-vous.",
    logged_out: "Vous êtes déconnecté.",

    config_title: "Configuration",
    families_label: "Familles",
    mode_label: "Mode",
    mode_basic: "basique",
    mode_standard: "normal",
    mode_advanced: "expert",
    mode_show: "Afficher",
    mandatory_mark: "obligatoire",
    mandatory_legend: "Les champs marqués * sont obligatoires.",
    read_only: "lecture seule",
    yes: "oui",
    no: "non",
    none_choice: "(aucun)",
    secret_set: "Une valeur est définie ; laissez vide pour la garder.",
    secret_unset: "Aucune valeur définie.",
    secret_keep: "(inchangé)",
    add_value: "Ajouter une valeur",
    remove_value: "Supprimer",
    add_row: "Ajouter une ligne",
    remove_row: "Supprimer la ligne {}",
    row_number: "Ligne",
    no_rows: "Aucune ligne.",
    add_instance: "Ajouter",
    add_instance_label: "Nouvel identifiant ({})",
    remove_instance: "Supprimer {}",
    refresh: "Vérifier",
    save: "Enregistrer",
    saved: "Enregistré. Les modifications prendront effet quand vous les appliquerez.",
    saved_nothing: "Rien n’a changé : rien n’a été enregistré.",
    not_saved_yet: "Pas encore enregistré : cette page montre des valeurs que vous n’avez pas enregistrées.",
    errors_title: "La configuration contient des erreurs",
    errors_intro: "Rien n’a été enregistré. Corrigez les champs ci-dessous :",
    stale_title: "La configuration a changé entre-temps",
    stale_message: "Quelqu’un a enregistré la configuration après l’ouverture de cette page. Vos modifications n’ont pas été enregistrées, pour ne pas écraser les siennes.",
    stale_reload: "Recharger la configuration actuelle",
    save_busy: "Une autre exécution de brise (une application, ou une modification en ligne de commande) modifie ce serveur : rien n’a été enregistré. Vos modifications sont conservées sur cette page : enregistrez à nouveau quand elle sera terminée.",
    nothing_to_show: "Rien à afficher dans ce mode.",
    default_value: "défaut",
    reset_default: "Revenir au défaut",
    help: "Aide",
    item_error: "valeur {} : {}",
    cell_label: "{} › {}, ligne {}",
    general_tab: "Général",
    examples: "Exemples : {}",
    identifier_required: "saisissez l’identifiant à ajouter",
    identifier_exists: "`{}` est déjà dans la liste",

    changes_title: "Modifications non appliquées",
    changes_intro: "Ce que la configuration enregistrée change par rapport à la dernière application réussie.",
    changes_none: "La configuration enregistrée est celle appliquée en dernier.",
    changes_never_applied: "La configuration n’a jamais été appliquée sur ce serveur : tout sera appliqué.",
    changes_variable: "Paramètre",
    changes_applied: "Appliqué",
    changes_current: "Enregistré",
    changes_added: "(nouveau)",
    changes_removed: "(supprimé)",
    changes_apply_now: "Appliquer maintenant",
    secret_changed: "(secret modifié)",

    apply_title: "Appliquer la configuration",
    apply_intro: "Génère les fichiers de configuration et met les conteneurs en conformité avec la configuration enregistrée. Les modifications non enregistrées ne sont pas appliquées.",
    apply_button: "Appliquer la configuration",
    apply_plan: "Plan",
    apply_log: "Journal",
    apply_status: "État",
    apply_idle: "Aucune application depuis le démarrage du serveur.",
    apply_running: "Application en cours…",
    apply_succeeded: "Configuration appliquée avec succès.",
    apply_failed: "L’application a échoué : {}",
    apply_busy: "Une application est déjà en cours : attendez qu’elle se termine.",
    apply_started_by: "Lancée par {}",
    apply_no_plan: "Rien à faire.",
    apply_live: "Le journal se met à jour tout seul.",

    error_title: "Erreur",
    error_not_found: "Cette page n’existe pas.",
    error_internal: "Une erreur est survenue sur le serveur. Les détails sont dans le journal du serveur.",
    error_csrf: "Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.",
    error_too_large: "Le formulaire envoyé est trop volumineux.",
    error_malformed: "La requête est mal formée.",
    error_unauthenticated: "Veuillez vous connecter.",
    error_back: "Retour",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_the_highest_quality_supported_language() {
        assert_eq!(Lang::negotiate("de-DE,en;q=0.8,fr;q=0.9"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,fr;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::negotiate("fr-FR"), Some(Lang::Fr));
    }

    #[test]
    fn negotiation_ignores_refused_and_unknown_languages() {
        assert_eq!(Lang::negotiate("fr;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de, es"), None);
        assert_eq!(Lang::negotiate(""), None);
        assert_eq!(Lang::negotiate("en;q=2"), None);
    }

    #[test]
    fn negotiation_keeps_the_first_on_a_tie() {
        assert_eq!(Lang::negotiate("en, fr"), Some(Lang::En));
    }

    #[test]
    fn fill_replaces_placeholders_in_order() {
        assert_eq!(fill("a {} b {}", &["1", "2"]), "a 1 b 2");
        assert_eq!(fill("no placeholder", &["x"]), "no placeholder");
        assert_eq!(fill("{} missing", &[]), " missing");
    }

    #[test]
    fn french_labels_are_translated() {
        // A label left in English in the French table is a forgotten translation;
        // the few words that are the same in both languages are listed here.
        let same = ["Configuration", "Mode", "Plan"];
        let en = format!("{EN:?}");
        let fr = format!("{FR:?}");
        let en_values: Vec<&str> = en.split(": \"").skip(1).collect();
        let fr_values: Vec<&str> = fr.split(": \"").skip(1).collect();
        assert_eq!(en_values.len(), fr_values.len());
        for (e, f) in en_values.iter().zip(&fr_values) {
            let e = e.split('"').next().unwrap_or_default();
            let f = f.split('"').next().unwrap_or_default();
            if !same.contains(&e) {
                assert_ne!(e, f, "untranslated label `{e}`");
            }
        }
    }
}
