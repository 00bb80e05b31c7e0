use detest::detest;

#[detest]
#[test]
fn t() {}

fn main() {}
