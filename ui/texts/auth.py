TEXTS = {
    "auth.username": ("用户名", "Username"),
    "auth.password": ("密码", "Password"),
    "auth.sign_in": ("登录", "Sign in"),
    "auth.sign_in_sso": ("使用单位统一身份登录", "Sign in with the organisation's identity provider"),
    "auth.sign_out": ("退出登录", "Sign out"),
    "auth.signed_in_as": ("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
    # One answer for every refusal (unknown user, wrong password, locked, disabled): the form
    # must not tell which usernames exist. The audit log keeps the reason.
    "auth.failed": (
        "登录失败：用户名或密码不正确，或该账号暂时不能登录（连续失败多次会锁定 15 分钟）。",
        "Sign-in failed: wrong username or password, or the account cannot sign in now "
        "(repeated failures lock it for 15 minutes).",
    ),
    "auth.idle": ("长时间未操作，请重新登录。", "You were idle for too long; please sign in again."),
    "auth.ended": (
        "您的登录已失效（已在别处退出，或账号已被更改），请重新登录。",
        "Your session has ended (signed out elsewhere, or the account was changed); please sign in again.",
    ),
    "download.started": (
        "下载已开始。下载链接只能使用一次，一分钟内有效；如未开始，请再点一次导出。",
        "The download has started. Its link works once, within a minute; if nothing arrives, click export again.",
    ),
    "download.expired": (
        "下载链接已失效（只能使用一次，一分钟内有效）。请回到页面重新点击导出。",
        "This download link has expired (it works once, within a minute). Click export on the page again.",
    ),
    "download.refused": (
        "只有导出该文件的登录会话才能下载它。请登录后在页面上重新导出。",
        "Only the signed-in session that made this export may download it. Sign in and export again.",
    ),
    "download.too_large": (
        "符合条件的人员已超过一次导出的上限，请先缩小筛选范围。",
        "More persons match than one export may hold; narrow the filters first.",
    ),
    "download.failed": ("导出失败，请稍后重试；详情已写入服务器日志。",
                        "The export failed; try again later. The server log has the details."),
    "web.refused": ("请求被拒绝。", "Request refused."),
    "web.too_large": ("提交的内容过大。", "What you sent is too large."),
    "download.sign_in_again": ("请重新登录后再导出。", "Please sign in again to export."),
    "auth.bad_token": (
        "大屏链接无效或已被吊销，请联系管理员获取新链接。",
        "This screen link is invalid or revoked; ask an administrator for a new one.",
    ),
    "auth.sso_no_account": (
        "统一身份 {email} 没有对应的本系统账号，请联系管理员开通。",
        "No account here matches {email}; ask an administrator to create one.",
    ),
    "auth.forbidden": ("您的角色无权访问此页面。", "Your role may not open this page."),
    "role.screen": ("大屏", "screen"),
    "role.leader": ("领导", "leader"),
    "role.staff": ("工作人员", "staff"),
    "role.admin": ("管理员", "admin"),
    "page.audit": ("操作日志", "Audit log"),
    "audit.actions": ("操作类型", "Actions"),
    "audit.actor": ("操作人", "Actor"),
    "audit.since": ("起始日期", "Since"),
    "audit.total": ("共 {n} 条", "{n} entries"),
    "audit.page": ("页码", "Page"),
    "audit.col.at": ("时间", "Time"),
    "audit.col.actor": ("操作人", "Actor"),
    "audit.col.action": ("操作", "Action"),
    "audit.col.detail": ("详情", "Detail"),
    "audit.empty": ("没有符合条件的记录。", "No entries match."),
}
