//! What both bundles show: the frame around every screen, login, form messages, the signals and
//! session, the two languages, and a commune's tasks.

pub mod frame;
pub mod i18n;
pub mod login;
pub mod message;
pub mod state;
pub mod tasks;
