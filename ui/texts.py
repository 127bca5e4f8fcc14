"""Every message the chat shows, in Arabic and English.

`say(key, lang, **values)` picks the question's language ("ar" or "en");
chrome that belongs to no question (the sidebar, the title) shows both.
"""

from __future__ import annotations

import re

TEXTS: dict[str, dict[str, str]] = {
    "title": {"ar": "اسأل الأخبار", "en": "Ask the news"},
    "placeholder": {"ar": "اكتب سؤالك عن المقالات… · Ask about the articles", "en": "Ask about the articles…"},
    "examples": {"ar": "جرّب أحد هذه الأسئلة", "en": "Try one of these"},
    "searching": {"ar": "أبحث في المقالات…", "en": "Searching the articles…"},
    "loading_models": {"ar": "تحميل نموذج اللغة…", "en": "Loading the language model…"},
    "models_ready": {"ar": "النموذج جاهز", "en": "The model is ready"},
    "building": {"ar": "لا يوجد فهرس بعد: أبني الفهرس من {docs}…", "en": "No index yet: building it from {docs}…"},
    "indexing": {"ar": "أفهرس {n} ملف(ات)…", "en": "Indexing {n} file(s)…"},
    "reindexing": {"ar": "أعيد فهرسة المجلد…", "en": "Re-indexing the folder…"},
    "index_failed": {"ar": "تعذّرت الفهرسة: {error}", "en": "Indexing failed: {error}"},
    "index_ready": {"ar": "الفهرس جاهز: {summary}", "en": "Index ready: {summary}"},
    "summary": {"ar": "{articles} مقالة — أضيف {added}، حُدّث {updated}، حُذف {removed}، تُرك {skipped}",
                "en": "{articles} articles — added {added}, updated {updated}, removed {removed}, "
                      "skipped {skipped}"},
    "skipped": {"ar": "لم تُفهرس {path}: {reason}", "en": "not indexed: {path}: {reason}"},
    "not_kept": {"ar": "حُذف الملف المرفوع {path} لأنه لم يُفهرس", "en": "the uploaded {path} was not kept"},
    "duplicate": {"ar": "{dup} مطابق لـ {same} (فُهرس مرة واحدة)", "en": "{dup} is the same as {same} (indexed once)"},
    "save_failed": {"ar": "تعذّر حفظ {name}: {error}", "en": "could not save {name}: {error}"},
    "dismiss": {"ar": "إخفاء", "en": "Dismiss"},
    "articles": {"ar": "المقالات", "en": "Articles"},
    "n_articles": {"ar": "{n} مقالة مفهرسة", "en": "{n} articles indexed"},
    "updated_at": {"ar": "آخر تحديث: {when}", "en": "last updated {when}"},
    "model": {"ar": "النموذج: {name}", "en": "model: {name}"},
    "no_index": {"ar": "لا يوجد فهرس بعد", "en": "No index yet"},
    "add": {"ar": "أضف مقالات ({types}؛ حتى {mb} م.ب للملف)", "en": "Add articles ({types}; up to {mb} MB each)"},
    "replace_same": {"ar": "استبدل المقالات التي تحمل الاسم نفسه (تحديثها)",
                     "en": "Replace articles of the same name (update them)"},
    "saved_as": {"ar": "حُفظ {name} باسم {path}: يوجد ملف بالاسم نفسه", "en": "{name} was saved as {path}: a file "
                 "of that name exists"},
    "add_button": {"ar": "أضف وأعد الفهرسة", "en": "Add and re-index"},
    "reindex_button": {"ar": "أعد فهرسة المجلد", "en": "Re-index folder"},
    "new_chat": {"ar": "محادثة جديدة", "en": "New conversation"},
    "library": {"ar": "مكتبة المقالات", "en": "Article library"},
    "filter": {"ar": "ابحث في العناوين", "en": "Search titles"},
    "showing": {"ar": "يُعرض {shown} من {total}", "en": "showing {shown} of {total}"},
    "indexed": {"ar": "مفهرسة", "en": "indexed"},
    "keyword_only": {"ar": "بالكلمات فقط (التضمين جارٍ)", "en": "keyword-only (embedding)"},
    "skipped_status": {"ar": "لم تُفهرس", "en": "skipped"},
    "remove_pick": {"ar": "حذف مقالة", "en": "Remove an article"},
    "remove_button": {"ar": "احذف", "en": "Remove"},
    "confirm_remove": {"ar": "أحذف «{title}»؟ سيُحذف الملف {path} من مجلد المقالات.",
                       "en": "Remove “{title}”? The file {path} is deleted from the articles folder."},
    "confirm_more": {"ar": "في الملف نفسه {n} مقالة أخرى ستُحذف معها.",
                     "en": "The same file holds {n} other article(s); they go too."},
    "yes_remove": {"ar": "نعم، احذف", "en": "Yes, remove"},
    "cancel": {"ar": "إلغاء", "en": "Cancel"},
    "removed": {"ar": "حُذفت {path}", "en": "removed {path}"},
    "feedback_saved": {"ar": "شكرًا، حُفظ تقييمك على هذا الجهاز", "en": "Thanks: saved on this computer only"},
    "llm_checked": {"ar": "كتبه {model}؛ تحقّقتُ من {verified} من {sentences} جمل مقابل مقاطعها، ولا يظهر غيرها",
                    "en": "written by {model}; {verified} of {sentences} sentences checked against their passages, "
                          "only those are shown"},
    "llm_fallback": {"ar": "لم تُستعمل إجابة النموذج اللغوي ({why})؛ هذه الاقتباسات", "en": "the LLM's reply is not "
                     "shown ({why}); these are the quotes"},
    "error": {"ar": "خطأ: {error}", "en": "Error: {error}"},
}


def say(key: str, lang: str = "ar", **values: object) -> str:
    """The message `key` in `lang` ("ar" or "en"), with `values` filled in."""
    return TEXTS[key]["en" if lang == "en" else "ar"].format(**values)


def both(key: str, **values: object) -> str:
    """The message in Arabic and English («…» · "…") for chrome shared by both."""
    ar, en = say(key, "ar", **values), say(key, "en", **values)
    return ar if ar == en else f"{ar} · {en}"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(text: str) -> str:
    """`text` for a Streamlit element that renders markdown (st.warning, st.info, ...):
    every markdown character escaped, so a file name or title shows as written."""
    return _MARKDOWN.sub(r"\\\1", text)
