//! The declaration table of a block of the schema: [`declare_block!`].
//!
//! One row per attribute holds everything about it: its constant and field
//! name (the name users write is the field's, via `stringify!`), whether it
//! always has a value (`Set`) or may be absent (`Opt`), its Rust type (which
//! gives its Terraform type), and its schema marks, default, validators and
//! description, written as the `tfsdk::schema::Attribute` builder calls.
//! From the table come the typed struct (for both modes of
//! [`super::state::Mode`]), the attribute-name constants, decoding
//! (`read`), encoding (`write`) and the schema block (`schema_block`), so
//! adding an attribute is adding one row.
//!
//! Decoding and encoding are what the hand-written code was: one lookup per
//! attribute into the object, one `Value::object` per block.

/// Declares one block: see the module documentation.
///
/// ```text
/// declare_block! {
///     /// The struct's documentation.
///     pub struct Name, constants names_mod, "Block description.";
///     attributes {
///         /// Field documentation.
///         CONST field: Set(String) .required().describe("…");
///     }
///     blocks {
///         CONST field: SingleOptional(Nested);   // or SingleRequired(Nested),
///     }                                          // or List(Nested, min, max)
/// }
/// ```
macro_rules! declare_block {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident, constants $consts:ident, $desc:expr;
        attributes {
            $(
                $(#[$ameta:meta])*
                $ac:ident $af:ident : $kind:ident ( $ty:ty )
                    $( . $m:ident ( $($arg:expr),* $(,)? ) )* ;
            )*
        }
        blocks {
            $(
                $(#[$bmeta:meta])*
                $bc:ident $bf:ident : $nesting:ident ( $bty:ident $(, $lim:expr)* ) ;
            )*
        }
    ) => {
        /// The names of the block's attributes and nested blocks.
        pub mod $consts {
            $( pub const $ac: &str = stringify!($af); )*
            $( pub const $bc: &str = stringify!($bf); )*
        }

        $(#[$smeta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name<M: Mode> {
            $( $(#[$ameta])* pub $af: <M as Mode>::$kind<$ty>, )*
            $( $(#[$bmeta])* pub $bf: $nesting<M, $bty<M>>, )*
        }

        impl<M: Mode> $name<M> {
            /// Reads the block from its object.
            #[allow(clippy::redundant_closure_call)]
            fn read(o: &Obj<'_>) -> Result<Self, AccessError> {
                Ok(Self {
                    $( $af: declare_block!(@read $kind, o, $consts::$ac), )*
                    $( $bf: declare_block!(@read_block $nesting, $bty, o, $consts::$bc, $bf), )*
                })
            }

            /// The block's object value.
            fn write(&self) -> Value {
                Value::object([
                    $( ($consts::$ac, declare_block!(@write $kind, $ty, &self.$af)), )*
                    $( ($consts::$bc, declare_block!(@write_block $nesting, $bty, &self.$bf)), )*
                ])
            }

            /// The block's schema.
            pub fn schema_block() -> Block {
                Block::new($desc)
                    $( .attr(<$ty as Attr>::attribute($consts::$ac) $( .$m($($arg),*) )* ) )*
                    $( .block(declare_block!(@nested $nesting, $bty, $consts::$bc $(, $lim)*)) )*
            }
        }
    };

    (@read Set, $o:ident, $n:expr) => { set::<M, _>($o, $n)? };
    (@read Opt, $o:ident, $n:expr) => { opt::<M, _>($o, $n)? };

    (@write Set, $ty:ty, $v:expr) => { set_value::<M, $ty>($v) };
    (@write Opt, $ty:ty, $v:expr) => { opt_value::<M, $ty>($v) };

    (@read_block SingleOptional, $b:ident, $o:ident, $n:expr, $f:ident) => {
        block::<M, _>($o, $n, $b::<M>::read)?
    };
    (@read_block SingleRequired, $b:ident, $o:ident, $n:expr, $f:ident) => {
        $b::<M>::read(&object(
            $o.raw($n),
            $o.path().attr($n),
            concat!("the ", stringify!($f), " block"),
        )?)?
    };
    (@read_block List, $b:ident, $o:ident, $n:expr, $f:ident) => {
        block_list::<M, _>($o, $n, $b::<M>::read)?
    };

    (@write_block SingleOptional, $b:ident, $v:expr) => {
        block_value(M::opt_field::<$b<M>>($v), $b::<M>::write)
    };
    (@write_block SingleRequired, $b:ident, $v:expr) => { ($v).write() };
    (@write_block List, $b:ident, $v:expr) => {
        block_list_value(M::set_field::<Vec<$b<M>>>($v), $b::<M>::write)
    };

    (@nested SingleOptional, $b:ident, $n:expr) => {
        NestedBlock::single_optional($n, $b::<Known>::schema_block())
    };
    (@nested SingleRequired, $b:ident, $n:expr) => {
        NestedBlock::single_required($n, $b::<Known>::schema_block())
    };
    (@nested List, $b:ident, $n:expr, $min:expr, $max:expr) => {
        NestedBlock::list($n, $min, $max, $b::<Known>::schema_block())
    };
}

pub(crate) use declare_block;
