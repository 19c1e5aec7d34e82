//! GitHub-style pagination: `page`/`per_page` query parameters and the `Link` header.

use std::collections::HashMap;

const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// One requested page: `number` from 1, `per_page` between 1 and 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: usize,
    pub per_page: usize,
}

impl Page {
    /// Reads `page` and `per_page`. A larger `per_page` is capped at 100 (documented); a
    /// missing, zero or unreadable value falls back to the default (a guess).
    pub fn from_query(query: &HashMap<String, String>) -> Self {
        let read = |key: &str| {
            query
                .get(key)
                .and_then(|value| value.parse::<usize>().ok())
                .filter(|n| *n > 0)
        };
        Self {
            number: read("page").unwrap_or(1),
            per_page: read("per_page")
                .unwrap_or(DEFAULT_PER_PAGE)
                .min(MAX_PER_PAGE),
        }
    }

    /// Whether this page reaches past the first `limit` results.
    pub fn reaches_past(&self, limit: usize) -> bool {
        self.number.saturating_mul(self.per_page) > limit
    }

    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.number - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }

    /// The `Link` header for a list of `total` items fetched from `path?query` on `base_url`,
    /// or `None` when there is nothing to link to (everything fits on page 1).
    /// The other query parameters are kept as sent, in their order; `page` goes last.
    pub fn link_header(
        &self,
        total: usize,
        base_url: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<String> {
        let last = total.div_ceil(self.per_page).max(1);
        let kept: Vec<&str> = query
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("page"))
            .collect();
        let url = |page: usize| {
            let mut pairs = kept.clone();
            let page = format!("page={page}");
            pairs.push(&page);
            format!("<{base_url}{path}?{}>", pairs.join("&"))
        };
        let mut links = Vec::new();
        if self.number > 1 {
            links.push(format!("{}; rel=\"prev\"", url(self.number - 1)));
        }
        if self.number < last {
            links.push(format!("{}; rel=\"next\"", url(self.number + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if self.number > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
        }
        (!links.is_empty()).then(|| links.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &[(&str, &str)]) -> Page {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Page::from_query(&query)
    }

    #[test]
    fn page_parameters_default_and_cap_like_github() {
        let cases = [
            (vec![], (1, 30)),
            (vec![("per_page", "100"), ("page", "3")], (3, 100)),
            (vec![("per_page", "500")], (1, 100)),
            (vec![("per_page", "0"), ("page", "0")], (1, 30)),
            (vec![("per_page", "ten"), ("page", "-2")], (1, 30)),
        ];
        for (query, (number, per_page)) in cases {
            assert_eq!(page(&query), Page { number, per_page }, "{query:?}");
        }
    }

    #[test]
    fn slicing_past_the_end_gives_an_empty_page() {
        let items: Vec<u32> = (1..=5).collect();
        let p = |number| Page {
            number,
            per_page: 2,
        };

        assert_eq!(p(1).slice(&items), &[1, 2]);
        assert_eq!(p(3).slice(&items), &[5]);
        assert!(p(4).slice(&items).is_empty());
        assert!(p(usize::MAX).slice(&items).is_empty());
    }

    #[test]
    fn the_link_header_keeps_other_parameters_and_moves_page_last() {
        let middle = Page {
            number: 2,
            per_page: 10,
        };
        let link = middle
            .link_header(
                35,
                "http://h",
                "/p/a%2Fb",
                Some("page=2&state=deleted&per_page=10"),
            )
            .expect("a middle page has links");

        assert_eq!(
            link,
            "<http://h/p/a%2Fb?state=deleted&per_page=10&page=1>; rel=\"prev\", \
             <http://h/p/a%2Fb?state=deleted&per_page=10&page=3>; rel=\"next\", \
             <http://h/p/a%2Fb?state=deleted&per_page=10&page=4>; rel=\"last\", \
             <http://h/p/a%2Fb?state=deleted&per_page=10&page=1>; rel=\"first\""
        );
    }

    #[test]
    fn the_link_header_is_absent_when_everything_fits_one_page() {
        let first = Page {
            number: 1,
            per_page: 30,
        };

        assert_eq!(first.link_header(30, "http://h", "/p", None), None);
        assert_eq!(first.link_header(0, "http://h", "/p", None), None);
        assert!(first.link_header(31, "http://h", "/p", None).is_some());
    }
}
