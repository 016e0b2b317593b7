//! Configuration + template catalogue → rendered files in memory (path, bytes,
//! owner, group, mode, checks, service to reload). tera, autoescape off,
//! undefined variables are errors. Pure: templates come in as (name, body);
//! only [`template_set::load`] reads the template directories. Writing the
//! files is `output`'s job.

pub mod catalogue;
pub mod configuration;
pub mod rendered;
pub mod renderer;
pub mod template_set;

pub use catalogue::{Check, Entry};
pub use configuration::{Configuration, DynamicInstance, TreeConfiguration, normalize_identifier};
pub use rendered::{Rendered, RenderedFile};
pub use renderer::Renderer;
pub use template_set::{LoadError, TemplateSet, load};
