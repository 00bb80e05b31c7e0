use detest::detest;

#[detest(seeds = 0)]
fn t() {}

fn main() {}
