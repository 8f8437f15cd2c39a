//! Vietnamese first, English on request: the language remembered per device, and `t(vi, en)` for
//! every text the screens show (reactive: switching redraws in place, nothing typed is lost).

use leptos::prelude::*;

const LANG_KEY: &str = "danvan.lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

thread_local! {
    /// The device's language, as a signal every `t` reads. A global rather than a context: texts
    /// are also built in event handlers and async tasks, which run outside any reactive owner.
    static LANG: std::cell::Cell<Option<RwSignal<Lang>>> = const { std::cell::Cell::new(None) };
}

fn signal() -> Option<RwSignal<Lang>> {
    LANG.with(std::cell::Cell::get)
}

/// Create the language signal from the remembered choice; call once at start.
pub fn init() {
    let lang = match crate::js::dom::local_get(LANG_KEY).as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Vi,
    };
    LANG.with(|l| l.set(Some(RwSignal::new(lang))));
    set_document_lang(lang);
}

fn code(lang: Lang) -> &'static str {
    if lang == Lang::En { "en" } else { "vi" }
}

fn set_document_lang(lang: Lang) {
    crate::js::dom::set_document_lang(code(lang));
}

pub fn set_lang(lang: Lang) {
    if let Some(s) = signal() {
        s.set(lang);
    }
    crate::js::dom::local_keep(LANG_KEY, code(lang));
    set_document_lang(lang);
}

/// Whether English is on (reactive).
pub fn en() -> bool {
    signal().is_some_and(|s| s.get() == Lang::En)
}

/// A text in both languages, as a reactive closure for `view!` (text nodes and attributes).
pub fn t(
    vi: &'static str,
    en_text: &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync {
    let lang = signal();
    move || match lang {
        Some(s) if s.get() == Lang::En => en_text,
        _ => vi,
    }
}

/// The same, evaluated now (for messages built in handlers).
pub fn tr(vi: &'static str, en_text: &'static str) -> &'static str {
    if signal().is_some_and(|s| s.get_untracked() == Lang::En) {
        en_text
    } else {
        vi
    }
}

/// The switch in the header.
#[component]
pub fn LangSwitch() -> impl IntoView {
    // Short on screen (the header of a 360 px phone has room for little); the accessible name
    // starts with the visible text.
    let label = t("EN", "VI");
    view! {
        <button type="button" class="lang" data-testid="lang-switch"
            on:click=move |_| set_lang(if en() { Lang::Vi } else { Lang::En })
            aria-label=t("EN — English", "VI — Tiếng Việt") title=t("English", "Tiếng Việt")>
            {label}
        </button>
    }
}

/// The `<option>`s of a picker of domain words, labelled in the device's language.
pub fn word_options<W: shared::vocab::Word>() -> impl IntoView {
    W::known()
        .iter()
        .filter_map(|k| {
            let (vi, en_text) = k.labels()?;
            Some(view! { <option value=k.wire().to_string()>{t(vi, en_text)}</option> })
        })
        .collect_view()
}
