//! The account checks that submissions, questions and obligations share with accounts,
//! under the names they are reached by.

pub use super::token::random_token;
pub use crate::references::check_unit;
