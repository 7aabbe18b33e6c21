"""What can be wrong with a consumer's report; each error says so in Chinese and English.

The codes are part of the API (``{"error": {"code", "zh", "en"}}``): apps match on them.
"""

from __future__ import annotations

from gimark.core.errors import GimarkError

__all__ = [
    "BadJsonError",
    "BadReportFieldError",
    "EmptyReportError",
    "NotAnImageError",
    "PhotoDimensionsError",
    "PhotoPixelsError",
    "PhotoTooLargeError",
    "ReportError",
    "ReportFieldTooLongError",
    "ReportRateLimitedError",
    "RequestTooLargeError",
    "UploadsFullError",
]


class ReportError(GimarkError):
    """Base of the report errors: the report was not stored."""

    code = "report_invalid"
    zh = "举报未能提交"
    en = "the report could not be submitted"


class EmptyReportError(ReportError):
    """Neither words nor a photo: nothing an inspector could act on."""

    code = "report_empty"
    zh = "请写下您发现的问题，或附上一张照片"
    en = "please describe what you found, or attach a photo"


class ReportFieldTooLongError(ReportError):
    """A text field is over its limit."""

    code = "report_field_too_long"
    zh = "“{field_zh}”最多 {limit} 个字符，您填写了 {length} 个"
    en = "{field} may be at most {limit} characters long; yours has {length}"


class BadJsonError(ReportError):
    """A JSON body that does not parse, or is not an object."""

    code = "report_bad_json"
    zh = "举报内容不是有效的 JSON 对象"
    en = "the report is not a valid JSON object"


class BadReportFieldError(ReportError):
    """A JSON body whose field is not a string."""

    code = "report_bad_field"
    zh = "举报内容格式不正确：{field} 应为文字"
    en = "the report is not well formed: {field} must be a string"


class RequestTooLargeError(ReportError):
    """The whole request is over the app's MAX_CONTENT_LENGTH (werkzeug refused to read it)."""

    code = "request_too_large"
    zh = "提交的内容过大，最多 {limit_mb} MB"
    en = "what you sent is too large; at most {limit_mb} MB"
    http_status = 413


class PhotoTooLargeError(ReportError):
    """The photo is over its size limit (the whole request may still be under its own)."""

    code = "photo_too_large"
    zh = "照片不能超过 {limit_mb} MB"
    en = "the photo may be at most {limit_mb} MB"
    http_status = 413


class NotAnImageError(ReportError):
    """The photo is not a JPEG, PNG or WebP image that can be read."""

    code = "photo_not_image"
    zh = "附件不是可识别的照片，请上传 JPEG、PNG 或 WebP 格式的图片"
    en = "the attachment is not a readable photo; please upload a JPEG, PNG or WebP image"


class PhotoDimensionsError(ReportError):
    """An image wider or taller than any phone camera takes (a decompression bomb, likely)."""

    code = "photo_dimensions"
    zh = "照片尺寸过大（{width}×{height} 像素），每边最多 {limit} 像素"
    en = "the photo is too large ({width}×{height} pixels); each side may be at most {limit}"


class PhotoPixelsError(ReportError):
    """More pixels than any phone's photo: refused from the header, before decoding (a small
    file can decode to gigabytes). 413, as the other "too large" answers: the request is
    well formed, its content is more than the service takes."""

    code = "photo_too_many_pixels"
    zh = "照片像素过多，最多 {limit_mp} 百万像素，请缩小后再上传"
    en = "the photo has too many pixels (at most {limit_mp} megapixels); please send a smaller one"
    http_status = 413


class ReportRateLimitedError(ReportError):
    """Too many reports (or photos) from one address or one scanner in a short time: a
    flood, not a shopper. ``retry_after`` seconds become the Retry-After header."""

    code = "report_rate_limited"
    zh = "提交举报过于频繁，请在 {retry_after} 秒后再试"
    en = "too many reports in a short time; please try again in {retry_after} seconds"
    http_status = 429


class UploadsFullError(ReportError):
    """The photos kept already fill their quota (GIMARK_LIMIT_UPLOAD_BYTES): 507, so that a
    flood of photos fills a folder, not the disk the database lives on."""

    code = "uploads_full"
    zh = "照片存储空间已满，请不附照片提交举报，或稍后再试"
    en = "there is no room for more photos; please send the report without one, or try later"
    http_status = 507
