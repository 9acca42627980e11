//! The crate's declarative macro `string_enum!`: enums whose values are API
//! spellings. It imports nothing of the crate, so leaf modules can use it.

/// Declares an enum of API spellings with `as_str`, `Display`, serde by spelling
/// and (in the full forms) `FromStr` answering [`ModelError::UnknownValue`] for its
/// field.
///
/// - `string_enum!($(@exhaustive)? Name, Field::X, { Variant => "text", ... })`:
///   everything; `ModelError` must be in scope.
/// - `string_enum!(@declare $(@exhaustive)? Name, { Variant => "text", ... })`: the
///   enum, `as_str`, `Display` and serde only, naming no error type (for leaf
///   modules);
/// - `string_enum!(@from_str Name, Field::X)`: the `FromStr` of a declared enum.
///
/// [`ModelError::UnknownValue`]: crate::error::ModelError::UnknownValue
macro_rules! string_enum {
    // A closed set the deciders map by variant (a new variant must break their
    // `match`, not fall into a default arm).
    (@declare @exhaustive $(#[$meta:meta])* $name:ident, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[expect(clippy::exhaustive_enums, reason = "a closed set the deciders match on")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }
        $crate::macros::string_enum!(@impls $name, { $($variant => $text),+ });
    };
    (@declare $(#[$meta:meta])* $name:ident, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }
        $crate::macros::string_enum!(@impls $name, { $($variant => $text),+ });
    };
    (@impls $name:ident, { $($variant:ident => $text:literal),+ }) => {

        impl $name {
            /// The API's spelling.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text,)+ }
            }

            /// The value spelled `text`, if any (exact match).
            pub(crate) fn from_api_str(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (@from_str $name:ident, $field:expr) => {
        impl ::std::str::FromStr for $name {
            type Err = ModelError;
            fn from_str(text: &str) -> Result<Self, ModelError> {
                Self::from_api_str(text)
                    .ok_or(ModelError::UnknownValue { field: $field, length: text.len() })
            }
        }
    };
    (@exhaustive $(#[$meta:meta])* $name:ident, $field:expr, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $crate::macros::string_enum!(@declare @exhaustive $(#[$meta])* $name, { $($(#[$vmeta])* $variant => $text),+ });
        $crate::macros::string_enum!(@from_str $name, $field);
    };
    ($(#[$meta:meta])* $name:ident, $field:expr, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $crate::macros::string_enum!(@declare $(#[$meta])* $name, { $($(#[$vmeta])* $variant => $text),+ });
        $crate::macros::string_enum!(@from_str $name, $field);
    };
}
pub(crate) use string_enum;
