//! Declarative schemas: attributes and nested blocks with their types,
//! presence (required / optional / computed), defaults, sensitivity,
//! replacement behaviour, validators and Markdown descriptions.
//!
//! The schema is the single source for what Terraform is told
//! (`GetProviderSchema`), for config validation, for plan-time defaults and
//! for the generated documentation.

mod identity;
mod validate;
mod walk;

pub use identity::{ForImport, IdentityAttribute, IdentitySchema};

pub use validate::Validator;
pub use walk::{apply_defaults, config_of_state, validate_config};

use crate::value::{Type, Value};

/// How an attribute gets its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Must be set in configuration.
    Required,
    /// May be set; null when not set.
    Optional,
    /// Set by the provider only.
    Computed,
    /// May be set; when not set the provider chooses (usually a default).
    OptionalComputed,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    /// Markdown; doubles as the registry documentation.
    pub description: &'static str,
    pub presence: Presence,
    pub sensitive: bool,
    /// The value planned when configuration leaves the attribute null.
    pub default: Option<Value>,
    /// A change to this attribute replaces the whole resource.
    pub force_new: bool,
    pub validators: Vec<Validator>,
}

impl Attribute {
    fn new(name: &'static str, ty: Type) -> Self {
        Attribute {
            name,
            ty,
            description: "",
            presence: Presence::Optional,
            sensitive: false,
            default: None,
            force_new: false,
            validators: Vec::new(),
        }
    }

    pub fn string(name: &'static str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn number(name: &'static str) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn bool(name: &'static str) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn string_map(name: &'static str) -> Self {
        Self::new(name, Type::Map(Box::new(Type::String)))
    }
    pub fn string_list(name: &'static str) -> Self {
        Self::new(name, Type::List(Box::new(Type::String)))
    }

    pub fn required(mut self) -> Self {
        self.presence = Presence::Required;
        self
    }
    pub fn optional(mut self) -> Self {
        self.presence = Presence::Optional;
        self
    }
    pub fn computed(mut self) -> Self {
        self.presence = Presence::Computed;
        self
    }
    pub fn optional_computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }
    /// Optional, and planned as `value` when not configured.
    pub fn default(mut self, value: Value) -> Self {
        self.presence = Presence::OptionalComputed;
        self.default = Some(value);
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn describe(mut self, markdown: &'static str) -> Self {
        self.description = markdown;
        self
    }
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }

    pub fn is_required(&self) -> bool {
        self.presence == Presence::Required
    }
    pub fn is_optional(&self) -> bool {
        matches!(
            self.presence,
            Presence::Optional | Presence::OptionalComputed
        )
    }
    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
}

/// How a nested block repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; its value is an object or null.
    Single,
    /// An ordered list of blocks.
    List,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub min_items: u32,
    pub max_items: u32,
    pub block: Block,
}

impl NestedBlock {
    /// Exactly one block is required.
    pub fn single_required(name: &'static str, block: Block) -> Self {
        NestedBlock {
            name,
            nesting: Nesting::Single,
            min_items: 1,
            max_items: 1,
            block,
        }
    }

    /// At most one block. (Terraform wants MinItems and MaxItems equal in
    /// single nesting: both 0 for an optional block.)
    pub fn single_optional(name: &'static str, block: Block) -> Self {
        NestedBlock {
            name,
            nesting: Nesting::Single,
            min_items: 0,
            max_items: 0,
            block,
        }
    }

    /// A list of blocks; `max_items` 0 means unbounded.
    pub fn list(name: &'static str, min_items: u32, max_items: u32, block: Block) -> Self {
        NestedBlock {
            name,
            nesting: Nesting::List,
            min_items,
            max_items,
            block,
        }
    }

    /// The value type of the block collection.
    pub fn value_type(&self) -> Type {
        let object = self.block.implied_type();
        match self.nesting {
            Nesting::Single => object,
            Nesting::List => Type::List(Box::new(object)),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new(description: &'static str) -> Self {
        Block {
            description,
            attributes: Vec::new(),
            blocks: Vec::new(),
        }
    }

    pub fn attr(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// The object type Terraform derives from this block.
    pub fn implied_type(&self) -> Type {
        let mut fields = std::collections::BTreeMap::new();
        for a in &self.attributes {
            fields.insert(a.name.to_owned(), a.ty.clone());
        }
        for b in &self.blocks {
            fields.insert(b.name.to_owned(), b.value_type());
        }
        Type::Object(fields)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn nested(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
}

/// A versioned top-level schema of a provider or a resource type.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn value_type(&self) -> Type {
        self.block.implied_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_type_covers_attributes_and_blocks() {
        let b = Block::new("")
            .attr(Attribute::string("a").required())
            .block(NestedBlock::list(
                "t",
                1,
                0,
                Block::new("").attr(Attribute::number("n").optional()),
            ))
            .block(NestedBlock::single_required(
                "f",
                Block::new("").attr(Attribute::bool("x").optional()),
            ));
        let Type::Object(fields) = b.implied_type() else {
            panic!("object expected")
        };
        assert_eq!(fields["a"], Type::String);
        assert!(matches!(&fields["t"], Type::List(inner) if matches!(**inner, Type::Object(_))));
        assert!(matches!(&fields["f"], Type::Object(_)));
    }
}
