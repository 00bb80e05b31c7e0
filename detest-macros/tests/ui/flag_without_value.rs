use detest::detest;

#[detest(seeds)]
fn t() {}

fn main() {}
