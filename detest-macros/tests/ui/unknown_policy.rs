use detest::detest;

#[detest(policy = "fastest")]
fn t() {}

fn main() {}
