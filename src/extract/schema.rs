//! Looks page facts up in parsed JSON-LD: flattens `@graph`, follows `{"@id": ...}` references,
//! and picks the main entity by type.
//!
//! Main-entity priority for page-level facts (title, description, image, author, date):
//! Article-like (`Article`, `NewsArticle`, `BlogPosting`, ...) > WebPage-like (`WebPage`,
//! `CollectionPage`, ...) > `WebSite` > Organization-like (`Organization`, `LocalBusiness`,
//! `Bakery`, ... and any type ending in `Organization`/`Business`/`Store`). Within a group the
//! first entity in document order that has the field wins.

use std::collections::HashMap;

use serde_json::{Map, Value};
use url::Url;

use super::text::clean;
use super::urls::absolute_str;

type Object = Map<String, Value>;

/// Bound on the entities considered (a `@graph` can be large).
const MAX_ENTITIES: usize = 1024;

const ARTICLE: &[&str] = &[
    "article",
    "newsarticle",
    "blogposting",
    "blog",
    "report",
    "scholarlyarticle",
    "techarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reportagenewsarticle",
    "liveblogposting",
    "socialmediaposting",
    "discussionforumposting",
];
const WEB_PAGE: &[&str] = &[
    "webpage",
    "collectionpage",
    "aboutpage",
    "itempage",
    "faqpage",
    "profilepage",
    "searchresultspage",
    "contactpage",
    "qapage",
    "checkoutpage",
    "medicalwebpage",
];
const WEB_SITE: &[&str] = &["website"];
const ORGANIZATION: &[&str] = &[
    "organization",
    "corporation",
    "localbusiness",
    "newsmediaorganization",
    "onlinestore",
    "store",
    "brand",
    "ngo",
    "bakery",
    "restaurant",
    "cafeorcoffeeshop",
    "foodestablishment",
    "hotel",
    "educationalorganization",
];

/// The JSON-LD entities of one page.
pub(super) struct Schema<'a> {
    entities: Vec<&'a Object>,
    by_id: HashMap<&'a str, &'a Object>,
}

impl<'a> Schema<'a> {
    /// Collects entities from top-level values and their `@graph`s.
    pub fn new(values: &'a [Value]) -> Self {
        let mut entities = Vec::new();
        for value in values {
            let Some(obj) = value.as_object() else {
                continue;
            };
            if obj.contains_key("@type") {
                entities.push(obj);
            }
            let graph = match obj.get("@graph") {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(item) => vec![item],
                None => Vec::new(),
            };
            entities.extend(graph.into_iter().filter_map(Value::as_object));
        }
        entities.truncate(MAX_ENTITIES);
        let mut by_id = HashMap::new();
        for entity in &entities {
            if let Some(id) = entity.get("@id").and_then(Value::as_str) {
                by_id.entry(id).or_insert(*entity);
            }
        }
        Schema { entities, by_id }
    }

    /// Headline/name of the main entity.
    pub fn title(&self) -> Option<String> {
        let fields: [(&[&str], &[&str]); 4] = [
            (ARTICLE, &["headline", "name"]),
            (WEB_PAGE, &["name", "headline"]),
            (WEB_SITE, &["name"]),
            (ORGANIZATION, &["name"]),
        ];
        fields
            .iter()
            .find_map(|(types, keys)| self.first(types, |e| keys.iter().find_map(|k| text(e.get(*k)?))))
    }

    /// Description of the main entity.
    pub fn description(&self) -> Option<String> {
        self.page_first(|e| text(e.get("description")?))
    }

    /// Name of the WebSite, else of the Organization.
    pub fn site_name(&self) -> Option<String> {
        [WEB_SITE, ORGANIZATION]
            .iter()
            .find_map(|types| self.first(types, |e| text(e.get("name")?)))
    }

    /// Image of the main entity (a URL, an ImageObject, or a list of either).
    pub fn image(&self, base: &Url) -> Option<String> {
        self.page_first(|e| self.url(e.get("image")?, base))
    }

    /// Organization logo, else the logo of any entity's publisher.
    pub fn logo(&self, base: &Url) -> Option<String> {
        self.first(ORGANIZATION, |e| self.url(e.get("logo")?, base))
            .or_else(|| {
                let publishers = self
                    .entities
                    .iter()
                    .filter_map(|e| e.get("publisher"))
                    .flat_map(as_list);
                let mut publishers = publishers.filter_map(Value::as_object).filter_map(|p| self.object(p));
                publishers.find_map(|p| self.url(p.get("logo")?, base))
            })
    }

    /// Author name of the main entity.
    pub fn author(&self) -> Option<String> {
        self.page_first(|e| self.name(e.get("author")?))
    }

    /// `datePublished` of the main entity, else of any entity.
    pub fn date_published(&self) -> Option<String> {
        self.page_first(|e| text(e.get("datePublished")?))
            .or_else(|| self.entities.iter().find_map(|e| text(e.get("datePublished")?)))
    }

    /// Every `sameAs` URL of every entity, in order.
    pub fn same_as(&self, base: &Url) -> Vec<String> {
        let values = self.entities.iter().filter_map(|e| e.get("sameAs"));
        values
            .flat_map(|v| {
                as_list(v)
                    .iter()
                    .filter_map(|s| absolute_str(base, s.as_str()?))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The first `f(entity)` over the page-level priority groups.
    fn page_first<T>(&self, f: impl Fn(&Object) -> Option<T>) -> Option<T> {
        [ARTICLE, WEB_PAGE, WEB_SITE, ORGANIZATION]
            .iter()
            .find_map(|types| self.first(types, &f))
    }

    /// The first `f(entity)` over entities having one of `types`.
    fn first<T>(&self, types: &[&str], f: impl Fn(&Object) -> Option<T>) -> Option<T> {
        self.entities.iter().filter(|e| has_type(e, types)).find_map(|e| f(e))
    }

    /// A name: a string, an object's `name`, or the first usable item of a list.
    fn name(&self, value: &Value) -> Option<String> {
        as_list(value).iter().find_map(|item| match item {
            Value::Object(obj) => self.object(obj).and_then(|o| text(o.get("name")?)),
            other => text(other),
        })
    }

    /// A URL: a string, an object's `url`/`contentUrl`, or the first usable item of a list.
    fn url(&self, value: &Value, base: &Url) -> Option<String> {
        as_list(value).iter().find_map(|item| match item {
            Value::String(s) => absolute_str(base, s),
            Value::Object(obj) => {
                let obj = self.object(obj)?;
                ["url", "contentUrl"]
                    .iter()
                    .find_map(|k| absolute_str(base, obj.get(*k)?.as_str()?))
            }
            _ => None,
        })
    }

    /// `obj` itself, or the entity it references by `@id` when it has no content of its own.
    fn object<'v>(&'v self, obj: &'v Object) -> Option<&'v Object> {
        let is_ref = obj.keys().all(|k| k.starts_with('@'));
        match obj.get("@id").and_then(Value::as_str) {
            Some(id) if is_ref => self.by_id.get(id).copied().or(Some(obj)),
            _ => Some(obj),
        }
    }
}

/// A list's items, or the value itself as a one-item list.
fn as_list(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// Cleaned text of a string, a `{"@value": ...}` object, or the first such item of a list.
fn text(value: &Value) -> Option<String> {
    as_list(value).iter().find_map(|item| match item {
        Value::String(s) => clean(s),
        Value::Object(obj) => clean(obj.get("@value")?.as_str()?),
        _ => None,
    })
}

/// True when the entity's `@type` (string or list, any IRI prefix, any case) is one of `types`.
fn has_type(entity: &Object, types: &[&str]) -> bool {
    let Some(declared) = entity.get("@type") else {
        return false;
    };
    as_list(declared).iter().filter_map(Value::as_str).any(|t| {
        let short = t.rsplit(['/', ':', '#']).next().unwrap_or(t).to_ascii_lowercase();
        let org_like =
            types == ORGANIZATION && ["organization", "business", "store"].iter().any(|s| short.ends_with(s));
        org_like || types.contains(&short.as_str())
    })
}
