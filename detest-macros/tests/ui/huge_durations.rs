use detest::detest;

// Whole numbers that fit in u64 milliseconds but overflow what the runtime adds to them.
#[detest(timeout = "5124095576030431h")]
fn huge_timeout() {}

#[detest(shrink_time = "100000h")]
fn huge_shrink_time() {}

fn main() {}
