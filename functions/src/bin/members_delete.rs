//! placeholder: the members-and-roles work fills this in
fn main() {}
