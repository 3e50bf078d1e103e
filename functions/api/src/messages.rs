//! The message catalogue: every error code pakn can answer with, worded in
//! English and Vietnamese (NFC). The domain (`pakn_core::Error`) says only
//! *what* went wrong — a kind, a stable code, the field at fault and named
//! parameters; this module alone says it in words, so a sentence is fixed
//! here, once, for every route that can produce it.
//!
//! A template names its parameters in braces (`'{category}'`); `{field}` is
//! the error's field. A code with more than one wording is told apart by a
//! parameter (`subject`, `reason`, `action`, `expected`) or by its field.
//! An unknown code, or a template whose parameters the error lacks, falls
//! back to the generic sentence of its kind: a client never gets an empty
//! or half-filled message.

use pakn_core::intake::Notice;
use pakn_core::{Error, ErrorKind};

/// A message in both languages, before its parameters are filled in.
type Template = (&'static str, &'static str);

/// The English and Vietnamese messages of an error.
pub fn messages(e: &Error) -> (String, String) {
    template(e)
        .and_then(|(en, vi)| Some((fill(en, e)?, fill(vi, e)?)))
        .unwrap_or_else(|| {
            let (en, vi) = generic(e.kind);
            (en.to_string(), vi.to_string())
        })
}

/// The English and Vietnamese messages of a notice on an accepted request
/// (`None` for a code the catalogue does not know).
pub fn notice(n: &Notice) -> Option<(String, String)> {
    let (en, vi) = notice_template(n.code)?;
    // The parameters are filled in as an error's are.
    let carrier = n
        .params
        .iter()
        .fold(Error::new(ErrorKind::Invalid, n.code), |e, (k, v)| {
            e.with(k, v)
        });
    Some((fill(en, &carrier)?, fill(vi, &carrier)?))
}

fn notice_template(code: &str) -> Option<Template> {
    Some(match code {
        "urgency_capped" => (
            "Accepted as normal, not urgent: an account's urgent reports apply at once up to {limit} a day. The unit or the city triage office can still raise its urgency.",
            "Đã tiếp nhận với mức độ thông thường, không phải khẩn cấp: mỗi tài khoản chỉ được tính khẩn cấp ngay cho tối đa {limit} phản ánh mỗi ngày. Đơn vị xử lý hoặc bộ phận phân loại của thành phố vẫn có thể nâng mức khẩn cấp.",
        ),
        _ => return None,
    })
}

/// The wording of `e`'s code (and variant), if the catalogue has one.
fn template(e: &Error) -> Option<Template> {
    let p = |name: &str| e.param(name);
    let field = e.field.as_deref();
    Some(match e.code {
        // ------------------------------------------------ any route
        "not_found" => ("Not found.", "Không tìm thấy."),
        "forbidden" => (
            "Your role may not do this.",
            "Vai trò của bạn không được phép thực hiện thao tác này.",
        ),
        "internal" => INTERNAL,
        "unavailable" => (
            "Service temporarily unavailable; please retry.",
            "Dịch vụ tạm thời gián đoạn; vui lòng thử lại.",
        ),
        "invalid_transition" if p("subject") == Some("inspection") => (
            "The inspection is closed; '{action}' is no longer possible.",
            "Hồ sơ thanh tra đã đóng; không thể thực hiện '{action}'.",
        ),
        "invalid_transition" => (
            "A case in status '{from}' does not allow '{action}'.",
            "Phản ánh đang ở trạng thái '{from}' không cho phép thao tác '{action}'.",
        ),
        "stale_version" if p("subject") == Some("inspection") => (
            "The inspection changed while you worked on it; read it again and retry.",
            "Hồ sơ thanh tra đã thay đổi trong lúc bạn thao tác; hãy tải lại và thử lại.",
        ),
        "stale_version" => STALE_CASE,
        "if_match_required" => IF_MATCH,
        "invalid_cursor" => (
            "The cursor is not one this server issued; start again without it.",
            "Con trỏ phân trang không hợp lệ; hãy bắt đầu lại không có cursor.",
        ),

        // ------------------------------------------------ identity
        "unauthorized" => match p("reason") {
            Some("no_subject") => (
                "The token has no valid subject.",
                "Mã xác thực không có chủ thể hợp lệ.",
            ),
            Some("no_unit") => (
                "An official's token must name a unit.",
                "Mã xác thực của cán bộ phải ghi rõ đơn vị.",
            ),
            _ => SIGN_IN,
        },
        "invalid_token" => match p("reason") {
            Some("algorithm") if p("expected") == Some("RS256") => (
                "The token must be a user pool's RS256-signed ID token.",
                "Mã xác thực phải là ID token của nhóm người dùng, ký bằng RS256.",
            ),
            Some("unknown_key") => (
                "The token was signed with a key this API does not know.",
                "Mã xác thực được ký bằng khóa mà API này không biết.",
            ),
            Some("token_use") => (
                "Send the ID token of your sign-in, not the access token.",
                "Hãy gửi ID token của lần đăng nhập, không phải access token.",
            ),
            Some("not_yet_valid") => (
                "The token is not valid yet; check the clock of the device.",
                "Mã xác thực chưa có hiệu lực; hãy kiểm tra đồng hồ của thiết bị.",
            ),
            Some("algorithm") => (
                "The token must be signed with HS256.",
                "Mã xác thực phải được ký bằng HS256.",
            ),
            Some("expired") => ("The token has expired.", "Mã xác thực đã hết hạn."),
            Some("issuer") => (
                "The token was not issued by pakn for this API.",
                "Mã xác thực không do pakn cấp cho API này.",
            ),
            Some("no_role") => (
                "The token names no pakn role.",
                "Mã xác thực không ghi vai trò hợp lệ của pakn.",
            ),
            Some("unit") => (
                "The token's unit is not a unit code.",
                "Đơn vị trong mã xác thực không phải mã đơn vị hợp lệ.",
            ),
            _ => ("The token is not valid.", "Mã xác thực không hợp lệ."),
        },
        "staff_role_from_citizen_pool" => (
            "A citizen account cannot hold a staff role; sign in with your staff account.",
            "Tài khoản công dân không thể mang vai trò cán bộ; hãy đăng nhập bằng tài khoản cán bộ.",
        ),
        "no_role" => (
            "Your account is in no pakn group; ask an administrator.",
            "Tài khoản của bạn chưa thuộc nhóm nào của pakn; hãy liên hệ quản trị viên.",
        ),

        // ------------------------------------------------ submitting
        "idempotency_key_reused" => (
            "This Idempotency-Key was used with a different body.",
            "Idempotency-Key này đã được dùng với nội dung khác.",
        ),
        "malformed" if field == Some("Idempotency-Key") => (
            "Idempotency-Key must be 1 to 255 ASCII characters.",
            "Idempotency-Key phải dài từ 1 đến 255 ký tự ASCII.",
        ),
        "unknown_category" => (
            "Unknown category '{category}'; see GET /v1/categories.",
            "Lĩnh vực '{category}' không tồn tại; xem GET /v1/categories.",
        ),
        "kind_mismatch" => (
            "Category '{category}' is a {kind} report.",
            "Lĩnh vực '{category}' thuộc loại phản ánh {kind}.",
        ),
        "location_required" => ("The location is required.", "Vị trí là bắt buộc."),
        "unknown_case" if field == Some("of") => (
            "No case has the id or tracking code given in 'of'.",
            "Không có phản ánh nào có mã hoặc số hiệu ghi trong 'of'.",
        ),
        "duplicate_of_itself" => (
            "A case cannot be a duplicate of itself.",
            "Một phản ánh không thể trùng với chính nó.",
        ),
        "original_not_open" => (
            "The case named in 'of' is '{status}': a duplicate must point to an open case.",
            "Phản ánh ghi trong 'of' đang ở trạng thái '{status}': phản ánh trùng phải trỏ tới phản ánh chưa xử lý xong.",
        ),
        "case_not_open" => (
            "The case is '{status}': only an open case can be followed.",
            "Phản ánh đang ở trạng thái '{status}': chỉ theo dõi được phản ánh chưa xử lý xong.",
        ),
        "invalid_coordinate" => (
            "'{field}' must be a number of decimal degrees.",
            "Trường '{field}' phải là số độ thập phân.",
        ),
        "outside_city" => (
            "The coordinates are outside Hanoi.",
            "Tọa độ nằm ngoài địa bàn Thành phố Hà Nội.",
        ),
        "invalid_ward_code" => (
            "ward_code is the 5-digit official code, e.g. \"00070\".",
            "ward_code là mã 5 chữ số chính thức, ví dụ \"00070\".",
        ),
        "unknown_ward" => (
            "No ward or commune of Hanoi has code {ward_code}.",
            "Không có phường, xã nào của Hà Nội mang mã {ward_code}.",
        ),
        "invalid_channel" if field == Some("X-Pakn-Channel") => (
            "X-Pakn-Channel is app or web, and only a citizen may send it.",
            "X-Pakn-Channel chỉ nhận app hoặc web, và chỉ người dân được gửi.",
        ),
        "invalid_channel" => (
            "Citizens submit through app or web; operators through the hotline.",
            "Người dân gửi qua ứng dụng hoặc web; tổng đài viên gửi qua đường dây nóng.",
        ),
        "contact_required" => (
            "A hotline report needs the caller's name or phone.",
            "Phản ánh qua tổng đài cần tên hoặc số điện thoại của người gọi.",
        ),
        "invalid_phone" => (
            "The phone number is not valid.",
            "Số điện thoại không hợp lệ.",
        ),
        "invalid_email" => (
            "The email address is not valid.",
            "Địa chỉ email không hợp lệ.",
        ),

        // ------------------------------------------------ text fields
        "required" => (
            "'{field}' must not be empty.",
            "Trường '{field}' không được để trống.",
        ),
        "too_long" => (
            "'{field}' has {chars} characters; at most {max} are allowed.",
            "Trường '{field}' có {chars} ký tự; tối đa {max} ký tự.",
        ),
        "control_characters" => (
            "'{field}' contains control characters.",
            "Trường '{field}' chứa ký tự điều khiển.",
        ),
        "too_many" if field == Some("officials") => {
            ("At most {max} officials.", "Tối đa {max} cán bộ.")
        }
        "too_many" => (
            "'{field}' has {count} entries; at most {max} are allowed.",
            "Trường '{field}' có {count} mục; tối đa {max} mục.",
        ),
        "invalid_url" => (
            "'{field}' must hold http(s) URLs.",
            "Trường '{field}' phải là các đường dẫn http(s).",
        ),

        // ------------------------------------------------ bodies
        "invalid_body" => match p("expected") {
            Some("report") => (
                "The report does not have the expected fields: {detail}.",
                "Phản ánh không có các trường như quy định: {detail}.",
            ),
            Some("action") => (
                "The request body does not fit this action: {detail}.",
                "Nội dung yêu cầu không phù hợp với thao tác này: {detail}.",
            ),
            Some("finding") => (
                "Expected {\"kind\",\"officials\",\"text\"}: {detail}.",
                "Cần {\"kind\",\"officials\",\"text\"}: {detail}.",
            ),
            Some("roster") => (
                "Expected {\"officials\":[{\"sub\",\"name\",\"title\"}]}: {detail}.",
                "Cần {\"officials\":[{\"sub\",\"name\",\"title\"}]}: {detail}.",
            ),
            Some("headcount") => (
                "Expected {\"staff\": N} with 0 <= N <= 1000000.",
                "Cần {\"staff\": N} với 0 <= N <= 1000000.",
            ),
            Some("upload") => (
                "Expected {\"content_type\",\"bytes\",\"keep_location\"?,\"public\"?}: {detail}.",
                "Cần {\"content_type\",\"bytes\",\"keep_location\"?,\"public\"?}: {detail}.",
            ),
            Some("notification_settings") => (
                "Expected {\"channel\"?: \"push\"|\"sms\"|\"off\", \"phone\"?}: {detail}.",
                "Cần {\"channel\"?: \"push\"|\"sms\"|\"off\", \"phone\"?}: {detail}.",
            ),
            Some("verification_code") => (
                "Expected {\"code\": \"six digits\"}: {detail}.",
                "Cần {\"code\": \"sáu chữ số\"}: {detail}.",
            ),
            Some("device") => (
                "Expected {\"platform\": \"fcm\"|\"apns\", \"token\"}: {detail}.",
                "Cần {\"platform\": \"fcm\"|\"apns\", \"token\"}: {detail}.",
            ),
            Some("dev_token") => (
                "Expected {\"role\",\"sub\",\"unit\"?}: {detail}.",
                "Cần {\"role\",\"sub\",\"unit\"?}: {detail}.",
            ),
            Some("nothing") => (
                "Closing takes no fields: send {} or no body.",
                "Thao tác đóng không nhận trường nào: hãy gửi {} hoặc để trống.",
            ),
            _ => return None,
        },

        // ------------------------------------------------ console sign-in
        "dev_login_off" => (
            "Developer sign-in is off here: sign in with your account (PAKN_DEV_LOGIN).",
            "Đăng nhập dành cho phát triển đang tắt ở đây: hãy đăng nhập bằng tài khoản của bạn (PAKN_DEV_LOGIN).",
        ),
        "unknown_role" => (
            "'{value}' is not a role (citizen, operator, official, unit_admin, triage, inspector, admin).",
            "'{value}' không phải vai trò hợp lệ (citizen, operator, official, unit_admin, triage, inspector, admin).",
        ),
        "unit_required" => (
            "This role needs a unit (e.g. ward:00070).",
            "Vai trò này cần chọn đơn vị (ví dụ ward:00070).",
        ),

        // ------------------------------------------------ actions
        "unknown_unit" => (
            "Unit '{unit}' does not exist.",
            "Đơn vị '{unit}' không tồn tại.",
        ),
        "invalid_unit_code" => (
            "'{value}' is not a unit code (ward:00070, dept:construction, city:triage).",
            "'{value}' không phải mã đơn vị hợp lệ (ward:00070, dept:construction, city:triage).",
        ),
        "invalid_target_unit" if p("action") == Some("route") => (
            "Route to a unit other than triage.",
            "Hãy chuyển đến một đơn vị khác bộ phận phân loại.",
        ),
        "invalid_target_unit" => (
            "Transfer to another unit (not the same unit, not triage).",
            "Chỉ chuyển sang đơn vị khác (không phải chính đơn vị, không phải bộ phận phân loại).",
        ),
        "unknown_reason_code" => (
            "Unknown reason code; use one of: {allowed}.",
            "Mã lý do không hợp lệ; dùng một trong: {allowed}.",
        ),
        "out_of_range" if field == Some("working_days") => (
            "An extension is 1 to {max} working days.",
            "Gia hạn từ 1 đến {max} ngày làm việc.",
        ),
        "out_of_range" if field == Some("limit") => {
            ("limit is 1 to {max}.", "limit từ 1 đến {max}.")
        }
        "out_of_range" if field == Some("score") => (
            "The score is a whole number from 1 to 5.",
            "Điểm đánh giá là số nguyên từ 1 đến 5.",
        ),
        // ------------------------------------------------ subscriptions
        "empty_filter" => (
            "Say what to receive: at least one of --unit, --audience or --event.",
            "Hãy chọn nội dung cần nhận: ít nhất một trong --unit, --audience hoặc --event.",
        ),
        "unknown_audience" => (
            "Unknown audience '{value}'; one of: unit, triage, home-affairs, citizen.",
            "Đối tượng nhận '{value}' không tồn tại; chọn một trong: unit, triage, home-affairs, citizen.",
        ),
        "unknown_event" => (
            "Unknown event '{value}'; one of: {allowed}.",
            "Sự kiện '{value}' không tồn tại; chọn một trong: {allowed}.",
        ),
        "unknown_urgency" => (
            "Unknown urgency '{value}'; one of: urgent, normal, complex.",
            "Mức độ '{value}' không tồn tại; chọn một trong: urgent, normal, complex.",
        ),
        "urgency_unchanged" => (
            "The case already has this urgency.",
            "Phản ánh đã ở mức độ khẩn cấp này.",
        ),
        "overdue_downgrade" => (
            "The unit holding an overdue case may not lower its urgency; ask the city triage office.",
            "Đơn vị đang giữ phản ánh đã quá hạn không được hạ mức độ khẩn cấp; hãy đề nghị bộ phận phân loại của thành phố.",
        ),
        "already_extended" => (
            "A case may be extended only once.",
            "Mỗi phản ánh chỉ được gia hạn một lần.",
        ),
        "unknown_case" => ("No case {id}.", "Không có phản ánh {id}."),
        "invalid_check_character" => (
            "This tracking code has a typing mistake: its check character (the last one) does not match the others. Check every character and try again.",
            "Mã tra cứu này bị gõ sai: ký tự kiểm tra (ký tự cuối) không khớp với các ký tự còn lại. Hãy kiểm tra lại từng ký tự.",
        ),

        // ------------------------------------------------ listing, periods
        "unknown_status" => (
            "Unknown status '{status}'.",
            "Trạng thái '{status}' không tồn tại.",
        ),
        "not_a_mobile_phone" => (
            "'{field}' must be a Vietnamese mobile number, e.g. 0912345678 or +84912345678.",
            "Trường '{field}' phải là số di động Việt Nam, ví dụ 0912345678 hoặc +84912345678.",
        ),
        "phone_required" => (
            "SMS needs a phone number: give 'phone' with the channel.",
            "Nhận tin qua SMS cần số điện thoại: hãy gửi kèm trường 'phone'.",
        ),
        "concurrent_update" => (
            "Your settings were being changed by another request at the same time. Try again.",
            "Cài đặt của bạn đang được một yêu cầu khác thay đổi cùng lúc. Hãy thử lại.",
        ),
        "no_code_pending" => (
            "No verification code is waiting: set your phone with PUT /v1/me/notifications to get one.",
            "Không có mã xác nhận nào đang chờ: hãy đặt số điện thoại (PUT /v1/me/notifications) để nhận mã.",
        ),
        "code_expired" => (
            "This verification code is no longer valid (ten minutes, five tries). Ask for a new one.",
            "Mã xác nhận này đã hết hiệu lực (mười phút, năm lần thử). Hãy yêu cầu mã mới.",
        ),
        "wrong_code" => (
            "The verification code does not match. Tries left: {attempts_left}.",
            "Mã xác nhận không đúng. Số lần thử còn lại: {attempts_left}.",
        ),
        "push_not_configured" => (
            "This deployment sends no push notifications (no push platform is configured). Choose SMS instead.",
            "Hệ thống này chưa gửi thông báo đẩy (chưa cấu hình nền tảng). Hãy chọn nhận tin qua SMS.",
        ),
        "unsupported_platform" => (
            "Devices of this platform cannot be registered here. Accepted: {accepted}.",
            "Không đăng ký được thiết bị của nền tảng này. Các nền tảng được nhận: {accepted}.",
        ),
        "invalid_device_token" => (
            "'{field}' must be the push token the platform gave the app (1 to 4096 characters, no spaces).",
            "Trường '{field}' phải là mã thông báo đẩy do nền tảng cấp cho ứng dụng (1 đến 4096 ký tự, không có khoảng trắng).",
        ),
        "uploads_not_configured" => (
            "This deployment takes no uploads (no media bucket or directory is configured). Link photos by https URL instead.",
            "Hệ thống này chưa nhận tệp tải lên (chưa cấu hình nơi lưu ảnh). Hãy gửi đường dẫn https tới ảnh.",
        ),
        "unsupported_file_type" => (
            "This type of file is not accepted. Accepted: {accepted}.",
            "Không nhận loại tệp này. Các loại được nhận: {accepted}.",
        ),
        "unknown_upload" => (
            "No upload {upload} of yours: ask for a slot with POST /v1/uploads first.",
            "Không có tệp tải lên {upload} của bạn: hãy xin chỗ tải lên bằng POST /v1/uploads trước.",
        ),
        "upload_rejected" => (
            "Upload {upload} failed its check ({reason}) and cannot be attached.",
            "Tệp {upload} không đạt kiểm tra ({reason}) nên không thể đính kèm.",
        ),
        "too_many_media" => (
            "Too many files: at most {max_photos} photos and {max_videos} video.",
            "Quá nhiều tệp: tối đa {max_photos} ảnh và {max_videos} video.",
        ),
        "evidence_photo_required" => (
            "Resolving a field report needs at least one evidence photo (an upload in 'evidence').",
            "Giải quyết phản ánh hiện trường cần ít nhất một ảnh minh chứng (tệp tải lên trong 'evidence').",
        ),
        "unknown_sort" => (
            "'sort' is 'received' (newest first) or 'due' (what is due next).",
            "'sort' là 'received' (mới nhất trước) hoặc 'due' (việc đến hạn trước).",
        ),
        "sort_needs_unit" => (
            "'sort=due' orders one unit's queue: give 'unit', or list as the unit's staff.",
            "'sort=due' sắp xếp hàng chờ của một đơn vị: hãy chỉ rõ 'unit' hoặc xem với tư cách cán bộ của đơn vị.",
        ),
        "invalid_date" if p("expected") == Some("w3c") => (
            "'{field}' is a W3C date-time with its offset, e.g. 2026-12-01T00:00:00+07:00.",
            "'{field}' là thời điểm dạng W3C kèm múi giờ, ví dụ 2026-12-01T00:00:00+07:00.",
        ),
        "invalid_date" if p("expected") == Some("date_or_rfc3339") => (
            "'{field}' is YYYY-MM-DD or RFC 3339, between 2000 and 2100.",
            "'{field}' có dạng YYYY-MM-DD hoặc RFC 3339, từ năm 2000 đến năm 2100.",
        ),
        "invalid_date" => (
            "'{field}' is a date YYYY-MM-DD between 2000 and 2100.",
            "'{field}' là ngày dạng YYYY-MM-DD, từ năm 2000 đến năm 2100.",
        ),
        "invalid_period" if p("expected") == Some("period") => (
            "Give period=YYYY-MM or YYYY, or from=YYYY-MM-DD&to=YYYY-MM-DD (to exclusive).",
            "Hãy dùng period=YYYY-MM hoặc YYYY, hoặc from=YYYY-MM-DD&to=YYYY-MM-DD (không gồm ngày to).",
        ),
        "invalid_period" if p("expected") == Some("years") => (
            "Dates fall between 2000 and 2100.",
            "Ngày phải nằm trong khoảng từ năm 2000 đến năm 2100.",
        ),
        "invalid_period" => (
            "'to' must be after 'from' (at most 366 days).",
            "'to' phải sau 'from' (tối đa 366 ngày).",
        ),

        // ------------------------------------------------ oversight
        "duplicate" => (
            "'{value}' is listed twice.",
            "'{value}' bị liệt kê hai lần.",
        ),
        "unknown_finding_kind" => ("kind is one of {allowed}.", "kind là một trong {allowed}."),
        "officials_required" => ("Name the officials at fault.", "Hãy nêu tên cán bộ có lỗi."),
        "not_on_roster" => (
            "'{official}' is not on the unit's roster.",
            "'{official}' không có trong danh sách cán bộ của đơn vị.",
        ),
        "findings_required" => (
            "Record at least one finding before closing.",
            "Hãy ghi ít nhất một kết luận trước khi đóng.",
        ),

        // ------------------------------------------------ Open311, API keys
        "api_key_required" => (
            "Send the api_key the city issued to your application.",
            "Hãy gửi api_key mà thành phố đã cấp cho ứng dụng của bạn.",
        ),
        "invalid_api_key" => (
            "The api_key is not valid, or it has been revoked.",
            "api_key không hợp lệ hoặc đã bị thu hồi.",
        ),
        "unknown_api_key" => ("No API key {id}.", "Không có khoá API {id}."),
        "unknown_service" => (
            "Unknown service '{service_code}'; see GET /open311/v2/services.json.",
            "Dịch vụ '{service_code}' không tồn tại; xem GET /open311/v2/services.json.",
        ),
        "ward_required" => (
            "'{service}' is handled by the ward: send attribute[ward_code] (the wards are listed in GET /open311/v2/services/{service_code}.json); an address, or a point outside the city's loaded ward boundaries, cannot be placed in a ward.",
            "'{service}' do phường, xã giải quyết: hãy gửi attribute[ward_code] (danh sách phường, xã ở GET /open311/v2/services/{service_code}.json); chỉ có địa chỉ, hoặc toạ độ nằm ngoài ranh giới phường, xã đã nạp, thì chưa xác định được phường, xã.",
        ),
        "coordinates_required" => (
            "Send lat and long: pakn places every report on the map (address_string or address_id alone cannot be placed yet).",
            "Hãy gửi lat và long: pakn đặt mọi phản ánh lên bản đồ (chỉ có address_string hoặc address_id thì chưa xác định được vị trí).",
        ),
        "unknown_request" => ("No service request {id}.", "Không có yêu cầu {id}."),
        "invalid_span" => (
            "end_date must not be before start_date, nor more than {days} days after it.",
            "end_date không được trước start_date, cũng không được sau quá {days} ngày.",
        ),
        "out_of_range" if field == Some("page") => (
            "page is a whole number from 1.",
            "page là số nguyên từ 1 trở lên.",
        ),
        "out_of_range" if field == Some("page_size") => {
            ("page_size is 1 to {max}.", "page_size từ 1 đến {max}.")
        }
        "invalid_number" => (
            "'{field}' must be a decimal number.",
            "Trường '{field}' phải là số thập phân.",
        ),
        "single_value" => (
            "'{field}' takes a single value.",
            "Trường '{field}' chỉ nhận một giá trị.",
        ),
        "unknown_format" => (
            "End the address with .json or .xml.",
            "Hãy kết thúc địa chỉ bằng .json hoặc .xml.",
        ),
        "unsupported_media_type" if p("expected") == Some("form") => (
            "Send the body as application/x-www-form-urlencoded.",
            "Hãy gửi nội dung dạng application/x-www-form-urlencoded.",
        ),

        // ------------------------------------------------ HTTP's own
        "unreadable_body" => (
            "The request body could not be read.",
            "Không đọc được nội dung yêu cầu.",
        ),
        "malformed_json" => (
            "The body is not valid JSON: {detail}.",
            "Nội dung gửi lên không phải JSON hợp lệ: {detail}.",
        ),
        "unsupported_media_type" => (
            "Send the body as JSON with 'Content-Type: application/json'.",
            "Hãy gửi nội dung dạng JSON với tiêu đề 'Content-Type: application/json'.",
        ),
        "payload_too_large" => (
            "The body is larger than {kib} KiB.",
            "Nội dung gửi lên vượt quá {kib} KiB.",
        ),
        "malformed_query" => (
            "The query string is not valid: {detail}.",
            "Tham số truy vấn không hợp lệ: {detail}.",
        ),
        "malformed_path" => (
            "The address is not valid UTF-8 after percent-decoding.",
            "Địa chỉ không phải UTF-8 hợp lệ sau khi giải mã phần trăm.",
        ),
        "malformed_if_match" => (
            "If-Match must be the case's ETag, e.g. \"3\".",
            "If-Match phải là ETag của phản ánh, ví dụ \"3\".",
        ),
        "no_route" => (
            "There is no such address in this API; see /openapi.json.",
            "Không có địa chỉ này trong API; xem /openapi.json.",
        ),
        "method_not_allowed" => (
            "This address does not accept that method; see /openapi.json.",
            "Địa chỉ này không chấp nhận phương thức đó; xem /openapi.json.",
        ),
        "rate_limited" => (
            "Too many requests; retry in {retry_after} seconds.",
            "Quá nhiều yêu cầu; vui lòng thử lại sau {retry_after} giây.",
        ),
        _ => return None,
    })
}

const INTERNAL: Template = (
    "Internal error; it has been logged.",
    "Lỗi hệ thống; sự cố đã được ghi nhận.",
);
const STALE_CASE: Template = (
    "The case changed since you read it; read it again and retry.",
    "Phản ánh đã thay đổi kể từ khi bạn đọc; hãy tải lại và thử lại.",
);
const IF_MATCH: Template = (
    "Send the case's ETag in If-Match.",
    "Hãy gửi ETag của phản ánh trong tiêu đề If-Match.",
);
const SIGN_IN: Template = (
    "Sign in: send 'Authorization: Bearer <token>'.",
    "Vui lòng đăng nhập: gửi tiêu đề 'Authorization: Bearer <mã xác thực>'.",
);

/// The sentence of a kind, for a code the catalogue does not know (no
/// parameters, so it is always whole).
pub fn generic(kind: ErrorKind) -> Template {
    match kind {
        ErrorKind::Malformed => (
            "The request is not well-formed.",
            "Yêu cầu không đúng định dạng.",
        ),
        ErrorKind::Unauthorized => SIGN_IN,
        ErrorKind::Forbidden => (
            "Your role may not do this.",
            "Vai trò của bạn không được phép thực hiện thao tác này.",
        ),
        ErrorKind::NotFound => ("Not found.", "Không tìm thấy."),
        ErrorKind::Conflict => (
            "The request conflicts with the current state.",
            "Yêu cầu mâu thuẫn với trạng thái hiện tại.",
        ),
        ErrorKind::StaleVersion => STALE_CASE,
        ErrorKind::VersionRequired => IF_MATCH,
        ErrorKind::Invalid => (
            "A field of the request is not valid.",
            "Một trường của yêu cầu không hợp lệ.",
        ),
        ErrorKind::RateLimited => (
            "Too many requests; wait a little and retry.",
            "Quá nhiều yêu cầu; vui lòng đợi một lát rồi thử lại.",
        ),
        ErrorKind::Unavailable | ErrorKind::Internal => INTERNAL,
    }
}

/// `template` with each `{name}` replaced by the error's parameter (or its
/// field for `{field}`); `None` if one is missing. Braces around anything
/// but a lowercase name (`{}`, `{"staff": N}`) are text. Values are
/// inserted as they are, never read again as templates.
fn fill(template: &str, e: &Error) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match placeholder(after) {
            Some(name) => {
                let value = if name == "field" {
                    e.field.as_deref()
                } else {
                    e.param(name)
                };
                out.push_str(value?);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The name in `name}…`, if `s` starts with one.
fn placeholder(s: &str) -> Option<&str> {
    let end = s.find('}')?;
    let name = &s[..end];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(name)
}

#[cfg(test)]
mod tests;
