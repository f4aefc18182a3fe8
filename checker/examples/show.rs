fn main() {
    let a: Vec<String> = std::env::args().collect();
    let r = checker::run_check(
        std::path::Path::new(&a[1]),
        a[2].parse().unwrap(),
        10000,
        a.len() > 3,
    );
    print!("{}", r.stdout);
    eprint!("{}", r.stderr);
    println!("exit {}", r.code);
}
