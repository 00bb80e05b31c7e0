use detest::detest;

#[detest(seeds = "1000")]
fn t() {}

fn main() {}
