pub mod campaign;
pub mod campaign_trust;
pub mod category;
pub mod nomination;
pub mod nominee;
pub mod region;
pub mod site;
pub mod trust;
