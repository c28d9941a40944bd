//! `telegate totp-setup`.

use crate::auth::totp;

pub fn setup(account: &str) -> anyhow::Result<()> {
    let setup = totp::new_setup(account)?;
    println!(
        "A new TOTP secret. Anyone who sees it can make codes: keep this terminal private.\n\n\
         1. Scan this QR code with an authenticator app (or add the URI below):\n\n{}\n{}\n\n\
         2. Add this line to telegate's .env and restart telegate:\n\n\
         TOTP_SECRET={}\n\n\
         3. In a private chat with the bot, send /auth and the 6-digit code the app shows.",
        setup.qr, setup.uri, setup.secret
    );
    Ok(())
}
