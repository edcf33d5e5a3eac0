TEXTS = {
    "app.title": ("统战大脑", "United-Front Brain"),
    "app.subtitle": ("党外代表人士工作驾驶舱", "Cockpit for representative persons"),
    "lang.label": ("语言", "Language"),
    "nav.overview": ("总览", "Overview"),
    "nav.work": ("工作", "Work"),
    "nav.data": ("数据", "Data"),
    "page.cockpit": ("驾驶舱", "Cockpit"),
    "page.explorer": ("人员查询", "Explorer"),
    "page.activities": ("活动参与", "Activities"),
    "page.lifecycle": ("发现培养使用管理", "Lifecycle"),
    "page.data_health": ("数据健康", "Data health"),
    "page.data_import": ("数据导入", "Import"),
    "footer.store": ("数据库：{store}", "Store: {store}"),
    "footer.persons": ("人员总数：{n}", "Persons: {n}"),
    "footer.last_change": ("最近更新：{at}", "Last change: {at}"),
    "footer.never": ("暂无数据", "no data yet"),
    "error.database_unavailable": (
        "数据库暂时无法连接，系统会自动重试。请稍后刷新页面。",
        "The database is unavailable right now; the app retries by itself. Refresh in a moment.",
    ),
    "error.database_unreadable": (
        "无法读取数据库，数据文件可能已损坏。请联系管理员。",
        "The store could not be read; its data file may be damaged. Please contact the administrator.",
    ),
    "error.unexpected": (
        "页面出现意外错误，已记录。请刷新页面或联系管理员。",
        "Something unexpected went wrong and was logged. Refresh the page or contact an administrator.",
    ),
    # One figure shown on several pages: one name (README, "Figures").
    "figure.fresh_12m": ("12个月内更新率", "Updated in 12 months"),
    "params.ignored": (
        "链接中 {names} 的值无法使用，已忽略。",
        "The link's value of {names} could not be used and was ignored.",
    ),
    "panel.failed": (
        "这部分暂时无法显示，错误已记录。",
        "This part cannot be shown right now; the error was logged.",
    ),
    "empty.no_persons": (
        "库中还没有人员数据。请到「数据导入」页上传表格，或运行 `python -m loaders demo` 生成演示数据。",
        "The store has no persons yet. Upload a spreadsheet on the Import page, or run `python -m loaders demo`.",
    ),
    "shell.coming": ("本页面正在建设中。", "This page is being built."),
}
