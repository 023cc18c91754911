//! Agenda for Change pay bands, as staff are asked for theirs (the support workforce this service
//! is for is mostly in bands 1 to 4; every band is offered so nobody has to pick a wrong one).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Band(&'static str, &'static str);

impl Band {
    /// Every band, in the order reports list them.
    pub const ALL: &[Band] = &[
        Band("band-1", "Band 1"),
        Band("band-2", "Band 2"),
        Band("band-3", "Band 3"),
        Band("band-4", "Band 4"),
        Band("band-5", "Band 5"),
        Band("band-6", "Band 6"),
        Band("band-7", "Band 7"),
        Band("band-8-9", "Band 8 or 9"),
        Band("other", "Not on Agenda for Change"),
    ];

    pub fn slug(self) -> &'static str {
        self.0
    }

    pub fn label(self) -> &'static str {
        self.1
    }
}
