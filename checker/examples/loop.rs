fn main() {
    let a: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&a[1]).unwrap();
    for _ in 0..a[3].parse::<usize>().unwrap() {
        let j =
            checker::cli::check_text(&text, a[2].parse().unwrap(), checker::Budget::Millis(10000))
                .unwrap();
        assert!(j.verdict != checker::Verdict::Unknown);
    }
}
