//! A campaign as the public and admin pages show it.

use serde::Serialize;
use valued_proto::nomination::v1::Campaign;

use crate::routes::page::segment;

/// A campaign as the templates see it. `slug` is ready to put in a path.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CampaignView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The first paragraph of the description.
    pub summary: String,
    pub categories: Vec<CategoryView>,
    /// The story's word limit when every category has the same one.
    pub word_limit: Option<u32>,
    /// Whether nominations are taken now (the nomination service decides; this only informs).
    pub nominations_open: bool,
    /// "31 March 2027", when scheduled.
    pub nominations_open_on: Option<String>,
    pub nominations_close_on: Option<String>,
    /// Key dates (soonest first), resources, and news (newest first), as the service orders them.
    pub dates: Vec<ItemView>,
    pub resources: Vec<ItemView>,
    pub news: Vec<ItemView>,
    /// Learning and career routes: those for every category first (without a heading), then each
    /// category's, in the categories' order.
    pub learning_routes: Vec<RouteGroupView>,
}

/// The learning routes that fit one category (or every category, when `category` is `None`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RouteGroupView {
    pub category: Option<String>,
    pub routes: Vec<RouteView>,
}

/// A learning route as the public page links it: through `path`, which counts the open.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RouteView {
    pub path: String,
    pub title: String,
    pub description: String,
    /// The staff group's name, when it fits one.
    pub staff_group: Option<String>,
}

/// The campaign's routes grouped by category; a route naming a category the campaign no longer
/// has counts as one for every category.
fn route_groups(campaign: &Campaign) -> Vec<RouteGroupView> {
    let view = |route: &valued_proto::nomination::v1::LearningRoute| RouteView {
        path: if route.trust_code.is_empty() {
            format!(
                "/campaigns/{}/routes/{}",
                segment(&campaign.slug),
                segment(&route.id)
            )
        } else {
            format!(
                "/trusts/{}/routes/{}",
                segment(&route.trust_code),
                segment(&route.id)
            )
        },
        title: route.title.clone(),
        description: route.description.clone(),
        staff_group: campaign
            .staff_groups
            .iter()
            .find(|g| !route.staff_group.is_empty() && g.value == route.staff_group)
            .map(|g| g.label.clone()),
    };
    let of_category = |id: &str| !id.is_empty() && campaign.categories.iter().any(|c| c.id == id);
    let general: Vec<RouteView> = campaign
        .learning_routes
        .iter()
        .filter(|r| !of_category(&r.category_id))
        .map(view)
        .collect();
    let mut groups = Vec::new();
    if !general.is_empty() {
        groups.push(RouteGroupView {
            category: None,
            routes: general,
        });
    }
    for category in &campaign.categories {
        let routes: Vec<RouteView> = campaign
            .learning_routes
            .iter()
            .filter(|r| r.category_id == category.id)
            .map(view)
            .collect();
        if !routes.is_empty() {
            groups.push(RouteGroupView {
                category: Some(category.name.clone()),
                routes,
            });
        }
    }
    groups
}

/// A key date, resource or news item of the campaign's page.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemView {
    pub id: String,
    pub kind: String,
    pub title: String,
    /// "1 June 2027", for a date or news item.
    pub on: Option<String>,
    pub url: String,
    pub body: String,
    /// A resource uploaded as a file: where it downloads from, and its type and size
    /// ("PDF, 1.2 MB").
    pub file: Option<FileView>,
}

/// A file uploaded as a resource, as the page links it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileView {
    pub path: String,
    pub name: String,
    /// "PDF, 1.2 MB".
    pub about: String,
}

/// "1.2 MB", "350 KB", "12 bytes".
fn size_of(size: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if size >= MB {
        match (size * 10 + MB / 2) / MB {
            tenths if tenths % 10 == 0 => format!("{} MB", tenths / 10),
            tenths => format!("{}.{} MB", tenths / 10, tenths % 10),
        }
    } else if size >= KB {
        format!("{} KB", (size + KB / 2) / KB)
    } else if size == 1 {
        "1 byte".into()
    } else {
        format!("{size} bytes")
    }
}

fn date_of(at: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    valued_platform::uk_time::of(at)
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CategoryView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub word_limit: u32,
}

impl From<&Campaign> for CampaignView {
    fn from(campaign: &Campaign) -> Self {
        let categories: Vec<CategoryView> = campaign
            .categories
            .iter()
            .map(|c| CategoryView {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                word_limit: c.word_limit,
            })
            .collect();
        let word_limit = match categories.first() {
            Some(first)
                if first.word_limit > 0
                    && categories.iter().all(|c| c.word_limit == first.word_limit) =>
            {
                Some(first.word_limit)
            }
            _ => None,
        };
        let items = |kind: &str| -> Vec<ItemView> {
            campaign
                .items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| ItemView {
                    id: i.id.clone(),
                    kind: i.kind.clone(),
                    title: i.title.clone(),
                    on: date_of(i.at.as_ref()).map(valued_platform::uk_time::day),
                    url: i.url.clone(),
                    body: i.body.clone(),
                    file: i.file.as_ref().map(|f| FileView {
                        path: crate::routes::campaigns::file_path(&campaign.slug, &i.id, &f.name),
                        name: f.name.clone(),
                        about: format!("{}, {}", f.label, size_of(f.size)),
                    }),
                })
                .collect()
        };
        Self {
            learning_routes: route_groups(campaign),
            dates: items("date"),
            resources: items("resource"),
            news: items("news"),
            id: campaign.id.clone(),
            slug: segment(&campaign.slug),
            name: campaign.name.clone(),
            summary: campaign
                .description
                .replace("\r\n", "\n")
                .split("\n\n")
                .map(str::trim)
                .find(|p| !p.is_empty())
                .unwrap_or_default()
                .to_owned(),
            description: campaign.description.clone(),
            categories,
            word_limit,
            nominations_open: {
                let now = chrono::Utc::now();
                let opens = date_of(campaign.nominations_open_at.as_ref());
                let closes = date_of(campaign.nominations_close_at.as_ref());
                opens.is_some_and(|o| o <= now) && closes.is_none_or(|c| now < c)
            },
            nominations_open_on: date_of(campaign.nominations_open_at.as_ref())
                .map(valued_platform::uk_time::day),
            nominations_close_on: date_of(campaign.nominations_close_at.as_ref())
                .map(valued_platform::uk_time::day),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_of;

    #[test]
    fn sizes_read_as_a_page_lists_them() {
        assert_eq!(size_of(1), "1 byte");
        assert_eq!(size_of(900), "900 bytes");
        assert_eq!(size_of(350 * 1024), "350 KB");
        assert_eq!(size_of(1_258_291), "1.2 MB");
        assert_eq!(size_of(10 * 1024 * 1024), "10 MB");
    }
}
