use super::*;

const JPEG: &[u8] = include_bytes!("../../../tests/fixtures/media/street-gps.jpg");
const PNG: &[u8] = include_bytes!("../../../tests/fixtures/media/flood-gps.png");

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_fixtures_do_carry_location_and_camera_metadata() {
    // Without this the stripping tests below could not fail.
    assert!(contains(JPEG, b"Exif\0\0") && contains(JPEG, b"PaknTestCam"));
    assert!(contains(JPEG, b"taken at 5 Hang Khay"));
    assert!(contains(PNG, b"eXIf") && contains(PNG, b"21.0285,105.8542"));
}

#[test]
fn bytes_say_what_a_file_is() {
    assert_eq!(sniff(JPEG), Some(Kind::Jpeg));
    assert_eq!(sniff(PNG), Some(Kind::Png));
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\0\0");
    assert_eq!(sniff(&mp4), Some(Kind::Mp4));
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend_from_slice(b"ftypheic\0\0\0\0");
    assert_eq!(sniff(&heic), Some(Kind::Heic));
    assert_eq!(sniff(b"GIF89a...."), None);
    assert_eq!(sniff(b""), None);
}

#[test]
fn a_jpeg_loses_gps_camera_and_comment_but_keeps_its_picture() {
    let p = process(JPEG, Kind::Jpeg, JPEG.len() as u64, false).expect("processed");
    assert!(!contains(&p.bytes, b"Exif"), "Exif segment gone");
    assert!(!contains(&p.bytes, b"PaknTestCam") && !contains(&p.bytes, b"Model X-123"));
    assert!(!contains(&p.bytes, b"taken at 5 Hang Khay"), "comment gone");
    let before = image::load_from_memory(JPEG).expect("decodes");
    let after = image::load_from_memory(&p.bytes).expect("still decodes");
    assert_eq!((after.width(), after.height()), (640, 480));
    // The scan data was copied, not re-encoded: the same pixels.
    assert_eq!(before.to_rgb8().as_raw(), after.to_rgb8().as_raw());
    let thumb = image::load_from_memory(p.thumbnail.as_deref().expect("a thumbnail")).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
}

#[test]
fn a_png_loses_exif_and_text_chunks_but_keeps_its_picture() {
    let p = process(PNG, Kind::Png, PNG.len() as u64, false).expect("processed");
    for chunk in [&b"eXIf"[..], b"tEXt", b"iTXt", b"21.0285"] {
        assert!(
            !contains(&p.bytes, chunk),
            "{}",
            String::from_utf8_lossy(chunk)
        );
    }
    let after = image::load_from_memory(&p.bytes).expect("still decodes");
    assert_eq!((after.width(), after.height()), (300, 200));
    assert!(p.thumbnail.is_some());
}

#[test]
fn a_reporter_may_keep_the_location() {
    let p = process(JPEG, Kind::Jpeg, JPEG.len() as u64, true).unwrap();
    assert_eq!(p.bytes, JPEG);
}

#[test]
fn a_file_whose_bytes_lie_about_its_type_or_length_is_refused() {
    assert_eq!(
        process(PNG, Kind::Jpeg, PNG.len() as u64, false).unwrap_err(),
        Rejection::TypeMismatch
    );
    let mut fake = b"\xFF\xD8\xFF".to_vec();
    fake.extend_from_slice(&[0u8; 20]);
    assert_eq!(
        process(&fake, Kind::Jpeg, fake.len() as u64, false).unwrap_err(),
        Rejection::Corrupt
    );
    assert_eq!(
        process(JPEG, Kind::Jpeg, 10, false).unwrap_err(),
        Rejection::SizeMismatch
    );
    // A truncated PNG.
    let cut = &PNG[..PNG.len() / 2];
    assert_eq!(
        process(cut, Kind::Png, cut.len() as u64, false).unwrap_err(),
        Rejection::Corrupt
    );
}

#[test]
fn videos_and_heic_pass_unchanged_without_a_thumbnail() {
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypmp42\0\0\0\0rest of the movie");
    let p = process(&mp4, Kind::Mp4, mp4.len() as u64, false).unwrap();
    assert_eq!(p.bytes, mp4);
    assert!(p.thumbnail.is_none());
}
