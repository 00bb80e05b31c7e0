use detest::detest;

#[detest(seeds = 10, seeds = 20)]
fn t() {}

fn main() {}
