"""Error pages in Chinese."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回检查后重试。"),
    403: ("没有权限", "您的账号没有进行此操作的权限。"),
    404: ("页面不存在", "您要找的页面不存在，或者您无权查看。"),
    405: ("请求方式不允许", "此页面不支持该请求方式。"),
    413: ("文件过大", "上传的文件超过了允许的大小。"),
    500: ("系统出错", "系统处理时出现错误，请稍后重试；如果问题持续，请联系管理员。"),
}


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, ("出错了", "请求无法完成。"))
    if detail:
        message = detail
    if request.headers.get("HX-Request") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=message), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register(app: Flask) -> None:
    """Attach the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, "页面已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            return _render(413, f"上传的文件超过了 {limit // (1024 * 1024)} MB 的限制。")
        return _render(error.code)

    @app.errorhandler(500)
    def server_error(error):
        return _render(500)
