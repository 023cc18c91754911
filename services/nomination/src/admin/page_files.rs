//! Files uploaded as resources of a campaign's page (posters, toolkits): their type decided by
//! their content, never by the name or the type the uploader's browser claimed; their name made
//! safe for a path and a download. Stored apart from the item (`campaign_file`), read only when
//! someone downloads one. Campaign content, not personal data: kept until the item is removed.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;
use valued_platform::domain::FieldError;
use valued_platform::grpc::CAMPAIGN_FILE_MAX_BYTES;

use crate::db::entities::{campaign, campaign_file, campaign_item};
use crate::error::{Error, Result};

/// The types a campaign's page takes: documents and images for posters, and the Office formats
/// toolkits come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Docx,
    Xlsx,
    Pptx,
}

impl FileKind {
    pub const ALL: [Self; 6] = [
        Self::Pdf,
        Self::Png,
        Self::Jpeg,
        Self::Docx,
        Self::Xlsx,
        Self::Pptx,
    ];

    /// The type of `content`, by its magic numbers (for the Office formats, by the parts of the
    /// ZIP they are made of); `None` for anything else.
    pub fn of(content: &[u8]) -> Option<Self> {
        if infer::archive::is_pdf(content) {
            Some(Self::Pdf)
        } else if infer::image::is_png(content) {
            Some(Self::Png)
        } else if infer::image::is_jpeg(content) {
            Some(Self::Jpeg)
        } else if infer::doc::is_docx(content) {
            Some(Self::Docx)
        } else if infer::doc::is_xlsx(content) {
            Some(Self::Xlsx)
        } else if infer::doc::is_pptx(content) {
            Some(Self::Pptx)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
        }
    }

    pub fn of_content_type(content_type: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.content_type() == content_type)
    }

    /// As a page names it: "PDF".
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Docx => "DOCX",
            Self::Xlsx => "XLSX",
            Self::Pptx => "PPTX",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
            Self::Pptx => "pptx",
        }
    }
}

/// A file as uploaded, checked: not empty, at most [`CAMPAIGN_FILE_MAX_BYTES`], of a type taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    name: String,
    kind: FileKind,
    content: Vec<u8>,
}

impl UploadedFile {
    /// `content` uploaded as `name`; the error is for the field `file`.
    pub fn parse(name: &str, content: Vec<u8>) -> std::result::Result<Self, FieldError> {
        let refuse = |message: String| Err(FieldError::new("file", message));
        if content.is_empty() {
            return refuse("The selected file is empty".into());
        }
        if content.len() > CAMPAIGN_FILE_MAX_BYTES {
            return refuse(format!(
                "The selected file must be smaller than {} MB",
                CAMPAIGN_FILE_MAX_BYTES / (1024 * 1024)
            ));
        }
        let Some(kind) = FileKind::of(&content) else {
            return refuse("The selected file must be a PDF, PNG, JPEG, DOCX, XLSX or PPTX".into());
        };
        Ok(Self {
            name: safe_name(name, kind),
            kind,
            content,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    pub fn size(&self) -> usize {
        self.content.len()
    }
}

/// `uploaded` reduced to letters, digits, '-', '_' and single dots (any run of anything else
/// becomes one '-'; a path is cut to its last part), at most 80 characters before the extension,
/// which is always `kind`'s: "Poster 2027 (final).PDF" → "Poster-2027-final.pdf".
pub fn safe_name(uploaded: &str, kind: FileKind) -> String {
    let base = uploaded.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let mut safe = String::new();
    for c in stem.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            c
        } else {
            '-'
        };
        let last = safe.chars().last();
        if (c == '-' || c == '.') && matches!(last, None | Some('-' | '.')) {
            continue;
        }
        safe.push(c);
        if safe.len() >= 80 {
            break;
        }
    }
    let safe = safe.trim_end_matches(['-', '.']);
    let stem = if safe.is_empty() { "file" } else { safe };
    format!("{stem}.{}", kind.extension())
}

/// A stored file without its content, as a page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub name: String,
    pub content_type: String,
    pub size: u64,
}

impl FileMeta {
    pub fn of(file: &UploadedFile) -> Self {
        Self {
            name: file.name.clone(),
            content_type: file.kind.content_type().to_owned(),
            size: file.content.len() as u64,
        }
    }

    /// "PDF".
    pub fn label(&self) -> &'static str {
        FileKind::of_content_type(&self.content_type).map_or("File", FileKind::label)
    }
}

/// Stores `file` as item `item_id`'s, in the caller's transaction.
pub(crate) async fn store(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    file: &UploadedFile,
) -> Result<()> {
    let row = campaign_file::Model {
        item_id,
        name: file.name.clone(),
        content_type: file.kind.content_type().to_owned(),
        size: i64::try_from(file.content.len()).unwrap_or(i64::MAX),
        content: file.content.clone(),
    };
    campaign_file::Entity::insert(campaign_file::ActiveModel::from(row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Deletes item `item_id`'s file, if it has one, in the caller's transaction.
pub(crate) async fn delete(db: &impl ConnectionTrait, item_id: Uuid) -> Result<()> {
    campaign_file::Entity::delete_by_id(item_id)
        .exec(db)
        .await?;
    Ok(())
}

/// The files of `items`, by item, without their content.
pub async fn metas_of(
    db: &impl ConnectionTrait,
    items: &[Uuid],
) -> Result<HashMap<Uuid, FileMeta>> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, String, i64)> = campaign_file::Entity::find()
        .select_only()
        .columns([
            campaign_file::Column::ItemId,
            campaign_file::Column::Name,
            campaign_file::Column::ContentType,
            campaign_file::Column::Size,
        ])
        .filter(campaign_file::Column::ItemId.is_in(items.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, content_type, size)| {
            let meta = FileMeta {
                name,
                content_type,
                size: u64::try_from(size).unwrap_or_default(),
            };
            (id, meta)
        })
        .collect())
}

/// Item `id`'s file on the page of the campaign at `slug`, for anyone: every campaign's page is
/// public. NOT_FOUND for an item that is not the campaign's or has no file.
pub async fn download(
    db: &impl ConnectionTrait,
    slug: &str,
    id: Uuid,
) -> Result<(FileMeta, Vec<u8>)> {
    let not_found = || Error::NotFound("that file of the campaign's page".into());
    let found = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let item = campaign_item::Entity::find_by_id(id)
        .filter(campaign_item::Column::CampaignId.eq(found.id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let file = campaign_file::Entity::find_by_id(item.id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let meta = FileMeta {
        name: file.name,
        content_type: file.content_type,
        size: u64::try_from(file.size).unwrap_or_default(),
    };
    Ok((meta, file.content))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0";
    const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0";

    #[test]
    fn the_type_is_the_contents_never_the_name() {
        assert_eq!(FileKind::of(PDF), Some(FileKind::Pdf));
        assert_eq!(FileKind::of(PNG), Some(FileKind::Png));
        assert_eq!(FileKind::of(JPEG), Some(FileKind::Jpeg));
        assert_eq!(FileKind::of(EXE), None);
        assert_eq!(FileKind::of(b"plain text"), None);
        let renamed = UploadedFile::parse("poster.pdf", EXE.to_vec()).unwrap_err();
        assert_eq!(renamed.field, "file");
        assert!(renamed.message.contains("PDF, PNG, JPEG"), "{renamed:?}");
        let png_as_pdf = UploadedFile::parse("poster.pdf", PNG.to_vec()).unwrap();
        assert_eq!(png_as_pdf.kind(), FileKind::Png);
        assert_eq!(png_as_pdf.name(), "poster.png");
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        let empty = UploadedFile::parse("poster.pdf", Vec::new()).unwrap_err();
        assert_eq!(empty.message, "The selected file is empty");
        let mut big = PDF.to_vec();
        big.resize(CAMPAIGN_FILE_MAX_BYTES + 1, b' ');
        let refused = UploadedFile::parse("poster.pdf", big).unwrap_err();
        assert!(
            refused.message.contains("smaller than 10 MB"),
            "{refused:?}"
        );
        let mut at_bound = PDF.to_vec();
        at_bound.resize(CAMPAIGN_FILE_MAX_BYTES, b' ');
        assert!(UploadedFile::parse("poster.pdf", at_bound).is_ok());
    }

    #[test]
    fn names_are_made_safe_and_end_in_their_types_extension() {
        let pdf = FileKind::Pdf;
        assert_eq!(
            safe_name("Poster 2027 (final).PDF", pdf),
            "Poster-2027-final.pdf"
        );
        assert_eq!(safe_name("../../etc/passwd", pdf), "passwd.pdf");
        assert_eq!(
            safe_name(r"C:\Users\me\toolkit.v2.pdf", pdf),
            "toolkit.v2.pdf"
        );
        assert_eq!(safe_name("\"><script>.pdf", pdf), "script.pdf");
        assert_eq!(safe_name("", pdf), "file.pdf");
        assert_eq!(safe_name("...", pdf), "file.pdf");
        assert_eq!(safe_name("évènement.pdf", pdf), "v-nement.pdf");
        assert_eq!(safe_name("poster.exe", FileKind::Png), "poster.png");
        let long = "a".repeat(300);
        assert_eq!(safe_name(&long, pdf).len(), 84);
    }
}
