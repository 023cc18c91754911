//! Uploading a poster to a campaign's page from the browser, in front of the real nomination
//! service: the multipart form holds to its CSRF token; a program named `.pdf`, a missing title
//! and a file over the bound (within the body limit or past it) each come back as the page with
//! the NHS.UK error summary and store nothing; a PDF is listed on the public page with its type
//! and size and downloads, to anyone, as its exact bytes with headers that keep it from acting as
//! a page of the site; removing it takes the download away.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use valued_nomination::db::entities::campaign_file;
use valued_platform::grpc::CAMPAIGN_FILE_MAX_BYTES;

use super::{BOUNDARY, PLATFORM_ADMIN, csrf, location, post_multipart, spawn};

/// A small PDF: the service takes it for one by its first bytes.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// Posts as the page's upload form does: multipart, the CSRF token and title first, then the file.
async fn upload(
    browser: &reqwest::Client,
    url: &str,
    token: &str,
    title: &str,
    (name, content): (&str, &[u8]),
) -> reqwest::Response {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    post_multipart(browser, url, body).await
}

/// The page came back with the error summary naming `message`, and nothing was stored.
async fn refused(admin: &super::Admin, response: reqwest::Response, message: &str) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{message}");
    let body = response.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(body.contains(message), "{message}: {body}");
    assert_eq!(
        campaign_file::Entity::find()
            .count(&admin.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_poster_uploaded_on_the_admin_page_downloads_from_the_campaigns_page() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let path = format!("/admin/campaigns/{}/page", admin.campaign.slug);
    let files = admin.url(&format!("{path}/files"));
    let public = format!("/campaigns/{}", admin.campaign.slug);
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    let token = csrf(&page);

    // Without the form's own token: refused before anything is read into the service.
    let forged = upload(
        &browser,
        &files,
        &"0".repeat(64),
        "Poster",
        ("p.pdf", &pdf()),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let program = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0program";
    let renamed = upload(&browser, &files, &token, "Poster", ("poster.pdf", program)).await;
    refused(
        &admin,
        renamed,
        "must be a PDF, PNG, JPEG, DOCX, XLSX or PPTX",
    )
    .await;
    let untitled = upload(&browser, &files, &token, "", ("poster.pdf", &pdf())).await;
    refused(&admin, untitled, "Enter the title").await;
    let none = upload(&browser, &files, &token, "Poster", ("", b"")).await;
    refused(&admin, none, "Select a file to upload").await;
    // One byte over: within the body limit, refused by the page before the service is asked.
    let mut over = pdf();
    over.resize(CAMPAIGN_FILE_MAX_BYTES + 1, b' ');
    let big = upload(&browser, &files, &token, "Poster", ("poster.pdf", &over)).await;
    refused(&admin, big, "The selected file must be smaller than 10 MB").await;
    // Well past the body limit: the page still answers, naming the file and keeping the title.
    over.resize(CAMPAIGN_FILE_MAX_BYTES + 512 * 1024, b' ');
    let huge = upload(&browser, &files, &token, "Poster", ("poster.pdf", &over)).await;
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
    let body = huge.text().await.unwrap();
    assert!(
        body.contains("The selected file must be smaller than 10 MB"),
        "{body}"
    );
    assert!(
        body.contains(r#"value="Poster""#),
        "the title is kept: {body}"
    );

    let added = upload(
        &browser,
        &files,
        &token,
        "Poster for staff rooms",
        ("Poster A3 (final).pdf", &pdf()),
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), format!("{path}?done=uploaded"));

    // Listed on the public page with its type and size, linked by its safe name.
    let shown = admin.page(&browser, &public, StatusCode::OK).await;
    let about = format!("Poster for staff rooms (PDF, {} bytes)", pdf().len());
    assert!(shown.contains(&about), "{shown}");
    let marker = format!("{public}/files/");
    let start = shown.find(&marker).unwrap();
    let link = &shown[start..start + shown[start..].find('"').unwrap()];
    assert!(link.ends_with("/Poster-A3-final.pdf"), "{link}");

    // Anyone downloads the exact bytes, served so that they cannot act as a page of the site.
    let anyone = reqwest::Client::new();
    let download = anyone.get(admin.url(link)).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let header = |name: &str| {
        download
            .headers()
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-disposition"),
        r#"inline; filename="Poster-A3-final.pdf""#
    );
    assert_eq!(header("content-security-policy"), "sandbox");
    assert_eq!(header("cache-control"), "public, max-age=3600");
    assert_eq!(header("content-length"), pdf().len().to_string());
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf().as_slice());

    // Removed on the admin page: the download goes with it.
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    assert!(page.contains("Poster-A3-final.pdf"), "{page}");
    let id = link[marker.len()..].split('/').next().unwrap();
    let removed = admin
        .post(&browser, &format!("{path}/{id}/remove"), &token, &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let gone = anyone.get(admin.url(link)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        campaign_file::Entity::find()
            .count(&admin.db)
            .await
            .unwrap(),
        0
    );
}
