use detest::detest;

#[detest(seeds = 10, chaos, spurious_wakeups = "off")]
fn t() {}

fn main() {}
