//! What a form says after an action, shown the same way on every screen.

use leptos::prelude::*;

/// What a form says after an action: `(true, text)` for success, `(false, text)` for a problem.
pub type Message = RwSignal<Option<(bool, String)>>;

/// Shows a form's [`Message`] (green for success, red for a problem, in words either way).
#[component]
pub fn MessageLine(
    message: Message,
    #[prop(optional)] testid: &'static str,
    #[prop(optional)] alert: bool,
) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <p class=move || if message.with(|m| m.as_ref().is_some_and(|m| m.0)) { "ok" } else { "error" }
                role=if alert { "alert" } else { "status" } data-testid=testid>
                {move || message.get().map(|m| m.1).unwrap_or_default()}
            </p>
        </Show>
    }
}
