//! The nearby search on the table: GSI6 (see `keys`) holds each open case
//! under `NEAR#<category>#<geohash6>` with its point in the sort key. A
//! search queries the cells its box touches, keeps the index entries
//! within the radius (distance from the sort key alone), and reads only
//! the nearest cases by key, strongly consistent: an entry whose case has
//! closed since (the index lags the table) is dropped there.

use super::keys::{GSI6, near_pk, parse_near_sk};
use super::{DynamoStore, Step};
use pakn_core::case::Case;
use pakn_core::ids::CaseId;
use pakn_core::nearby::{BoundingBox, CELL_PRECISION, cells_covering, distance_m};
use pakn_core::ports::{NearQuery, StoreResult};

impl DynamoStore {
    pub(super) async fn near(&self, q: &NearQuery) -> StoreResult<Vec<Case>> {
        let b = BoundingBox::around(q.lat, q.lng, q.radius_m);
        let mut found: Vec<(f64, CaseId)> = Vec::new();
        for cell in cells_covering(&b, CELL_PRECISION) {
            let step = Step {
                gsi: GSI6,
                pk: near_pk(&q.category, &cell),
                sk: None,
                forward: true,
            };
            for i in &self.index_entries(&step).await? {
                let Some(sk) = i.get(GSI6.sk).and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                let Some((lat, lng, id)) = parse_near_sk(sk) else {
                    continue;
                };
                let d = distance_m(q.lat, q.lng, lat, lng);
                if d <= q.radius_m {
                    if let Some(id) = CaseId::parse(id) {
                        found.push((d, id));
                    }
                }
            }
        }
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        found.dedup_by(|a, b| a.1 == b.1);
        let mut out = Vec::with_capacity(q.limit);
        // Read a few more than asked: an entry may name a case closed since.
        for chunk in found.chunks(q.limit.max(1) + 5) {
            let ids: Vec<CaseId> = chunk.iter().map(|(_, id)| id.clone()).collect();
            for c in self.cases_by_id(&ids).await? {
                if c.status.is_open() && c.category == q.category && out.len() < q.limit {
                    out.push(c);
                }
            }
            if out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }
}
