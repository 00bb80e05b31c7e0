use detest::detest;

#[detest(seeds = 100, seed = 42)]
fn t() {}

fn main() {}
