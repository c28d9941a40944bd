use crate::bot::Dispatcher;

pub fn run(bot: &Dispatcher) -> String {
    format!(
        "Hello! I am @{}, a private bot run with telegate.\nSend /help to see what I can do.",
        bot.username()
    )
}
