use detest::detest;

#[detest(seeds = 10)]
#[should_panic]
fn t() {
    panic!("boom");
}

fn main() {}
