pub fn run() -> String {
    "pong".to_owned()
}
