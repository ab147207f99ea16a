//! Performance items (access patterns 1–5 in the [module docs](super)).

use super::{cursor, s, Item, Store, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK, TYPE};
use crate::domain::performance::{Category, Performance, PerformanceDetails, PerformanceStatus};
use crate::error::AppError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::Serialize;

const ENTITY: &str = "performance";
const CATALOG: &str = "CATALOG";

/// Attributes of [`PerformanceDetails`] that may be absent; an update without them removes them.
const OPTIONAL_DETAILS: [&str; 1] = ["posterUrl"];

/// One page of a listing. `nextCursor` is absent on the last page.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("PERF#{id}"))), (SK.into(), s("META"))])
}

fn catalog_sort_key(details: &PerformanceDetails, id: &str) -> String {
    format!("{}#{id}", details.run_start_date)
}

/// Catalog index keys for a performance that is publicly listed; none otherwise (sparse indexes).
fn catalog_keys(p: &Performance) -> Vec<(&'static str, String)> {
    match p.status {
        PerformanceStatus::Published => {
            let sort = catalog_sort_key(&p.details, &p.id);
            vec![
                (GSI1PK, CATALOG.to_string()),
                (GSI1SK, sort.clone()),
                (GSI2PK, format!("{CATALOG}#{}", p.details.category.as_str())),
                (GSI2SK, sort),
            ]
        }
    }
}

fn to_item(p: &Performance) -> Result<Item, AppError> {
    let mut item: Item = serde_dynamo::to_item(p).map_err(|e| AppError::Corrupt(e.to_string()))?;
    item.extend(key(&p.id));
    item.insert(TYPE.into(), s("Performance"));
    for (name, value) in catalog_keys(p) {
        item.insert(name.into(), s(value));
    }
    Ok(item)
}

fn from_item(item: Item) -> Result<Performance, AppError> {
    Ok(serde_dynamo::from_item(item)?)
}

impl Store {
    /// Pattern 2: stores a new performance; the id must be new.
    pub async fn create_performance(&self, p: &Performance) -> Result<(), AppError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(p)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|err| match err.into_service_error() {
                e if e.is_conditional_check_failed_exception() => {
                    AppError::Conflict(format!("performance {} already exists", p.id))
                }
                e => AppError::Dependency(format!("{e:?}")),
            })?;
        Ok(())
    }

    /// Pattern 1.
    pub async fn get_performance(&self, id: &str) -> Result<Option<Performance>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .consistent_read(true)
            .send()
            .await?;
        out.item.map(from_item).transpose()
    }

    /// Pattern 3: replaces the editable details in one conditional `UpdateItem` and bumps `version`.
    /// With `expected_version`, the update happens only if nobody changed the performance since.
    pub async fn update_performance(
        &self,
        id: &str,
        details: &PerformanceDetails,
        expected_version: Option<u64>,
        now: &str,
    ) -> Result<Performance, AppError> {
        let values: Item =
            serde_dynamo::to_item(details).map_err(|e| AppError::Corrupt(e.to_string()))?;
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut names = std::collections::HashMap::new();
        let mut expr_values = std::collections::HashMap::new();
        for (i, (name, value)) in values.into_iter().enumerate() {
            sets.push(format!("#d{i} = :d{i}"));
            names.insert(format!("#d{i}"), name);
            expr_values.insert(format!(":d{i}"), value);
        }
        for (i, name) in OPTIONAL_DETAILS.iter().enumerate() {
            if !names.values().any(|n| n == name) {
                removes.push(format!("#r{i}"));
                names.insert(format!("#r{i}"), (*name).to_string());
            }
        }
        // The catalog keys follow the details (sort by run start, list by category). Every performance is
        // listed while `Published` is the only status; a hidden status must not set them (sparse index).
        let sort = catalog_sort_key(details, id);
        for (attr, value) in [
            (GSI1SK, sort.clone()),
            (GSI2PK, format!("{CATALOG}#{}", details.category.as_str())),
            (GSI2SK, sort),
        ] {
            sets.push(format!("{attr} = :{attr}"));
            expr_values.insert(format!(":{attr}"), s(value));
        }
        sets.push("updatedAt = :now".into());
        sets.push("version = version + :one".into());
        expr_values.insert(":now".into(), s(now));
        expr_values.insert(":one".into(), AttributeValue::N("1".into()));

        let mut condition = "attribute_exists(PK)".to_string();
        if let Some(v) = expected_version {
            condition.push_str(" AND version = :expected");
            expr_values.insert(":expected".into(), AttributeValue::N(v.to_string()));
        }
        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }

        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(expr_values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => from_item(out.attributes.unwrap_or_default()),
            Err(err) => match err.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(_) => {
                    match (expected_version, self.get_performance(id).await?) {
                        (Some(expected), Some(_)) => Err(AppError::PreconditionFailed {
                            entity: ENTITY,
                            id: id.to_string(),
                            expected,
                        }),
                        _ => Err(AppError::NotFound {
                            entity: ENTITY,
                            id: id.to_string(),
                        }),
                    }
                }
                e => Err(AppError::Dependency(format!("{e:?}"))),
            },
        }
    }

    /// Patterns 4 and 5: the public catalog, ordered by the first day of the run.
    pub async fn list_catalog(
        &self,
        category: Option<Category>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Performance>, AppError> {
        let (index, pk_name, sk_name, partition) = match category {
            None => (GSI1, GSI1PK, GSI1SK, CATALOG.to_string()),
            Some(c) => (GSI2, GSI2PK, GSI2SK, format!("{CATALOG}#{}", c.as_str())),
        };
        let start_key = cursor
            .map(|raw| cursor::decode(raw, &[PK, SK, pk_name, sk_name], pk_name, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(partition))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }
}
