use crate::bot::context::Context;

pub fn run(ctx: &Context) -> String {
    let user = ctx
        .user_id
        .map_or_else(|| "unknown".to_owned(), |id| id.to_string());
    let chat = ctx
        .chat_id()
        .map_or_else(|| "none".to_owned(), |id| id.to_string());
    format!("Your user id: {user}\nThis chat's id: {chat}")
}
