//! A multipart form with one file, as the upload pages post it (the CSRF token and any other text
//! fields first, then the file): read within the route's body limit, which an oversized file
//! runs into; the page then names the file as too large instead of failing the request.

use std::collections::HashMap;

use axum::extract::Multipart;

#[derive(Debug, Default)]
pub(super) struct Upload {
    text: HashMap<String, String>,
    /// The name the browser sent with the file (empty when none was chosen).
    pub file_name: String,
    pub file: Vec<u8>,
    /// The body went past the route's limit while the file was read: what came after it is lost.
    pub too_large: bool,
}

impl Upload {
    /// Reads `form`, the file from its field `file_field` and every other field as text.
    pub async fn read(mut form: Multipart, file_field: &str) -> Self {
        let mut upload = Self::default();
        while let Ok(Some(field)) = form.next_field().await {
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            if name == file_field {
                upload.file_name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => upload.file = bytes.to_vec(),
                    Err(_) => {
                        upload.too_large = true;
                        break;
                    }
                }
            } else {
                let value = field.text().await.unwrap_or_default();
                upload.text.insert(name, value);
            }
        }
        upload
    }

    /// The text field `name`, or "" when it was not sent.
    pub fn text(&self, name: &str) -> &str {
        self.text.get(name).map_or("", String::as_str)
    }
}
