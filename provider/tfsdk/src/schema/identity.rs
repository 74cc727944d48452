//! Resource identity (protocol 6.9, Terraform 1.12): the few attributes that
//! name one remote object for good, with their own version. Terraform keeps
//! them beside the state, imports by them (`import { identity = { … } }`)
//! and lists resources by them (`terraform query`).

use std::collections::BTreeMap;

use crate::value::Type;

/// Whether an `import` block must give an identity attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForImport {
    /// The import fails without it.
    Required,
    /// The provider supplies it when the import leaves it out.
    Optional,
}

#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    pub name: &'static str,
    pub ty: Type,
    pub for_import: ForImport,
    /// Markdown.
    pub description: &'static str,
}

impl IdentityAttribute {
    pub fn new(name: &'static str, ty: Type, for_import: ForImport) -> Self {
        IdentityAttribute {
            name,
            ty,
            for_import,
            description: "",
        }
    }

    pub fn describe(mut self, markdown: &'static str) -> Self {
        self.description = markdown;
        self
    }
}

/// A resource type's identity schema. Its version is separate from the
/// state's schema version.
#[derive(Clone, Debug)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// The object type identity data is encoded with.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_owned(), a.ty.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
}
