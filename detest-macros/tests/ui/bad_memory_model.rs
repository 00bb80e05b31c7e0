use detest::detest;

#[detest(seeds = 10, chaos, memory_model = "tso")]
fn t() {}

fn main() {}
