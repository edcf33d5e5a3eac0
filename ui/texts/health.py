TEXTS = {
    "health.caption": (
        "数据是活的还是死的？看更新是否及时、字段是否齐全、是否有疑似重复、最近的导入情况。",
        "Is our data alive or dead? How recently it was updated, how complete it is, suspected duplicates, recent imports.",
    ),
    # liveness
    "health.live.title": ("数据活力指数", "Liveness score"),
    "health.live.definition": (
        "**定义**（0–100，四舍五入）：\n\n"
        "- 40 分 × 近 12 个月内更新过的人员占比\n"
        "- 30 分 × 关键字段平均填写率（{fields}）\n"
        "- 30 分 × 近 12 个月内有签到记录的人员占比\n\n"
        "12 个月按 365 天计；均以当前范围内的人员为分母。",
        "**Definition** (0–100, rounded):\n\n"
        "- 40 × share of persons updated within the last 12 months\n"
        "- 30 × mean fill rate of the key fields ({fields})\n"
        "- 30 × share of persons with a check-in within the last 12 months\n\n"
        "12 months = 365 days; every share is of the persons in your scope.",
    ),
    "health.live.withheld": ("范围内人数较少：为免推算出不足{n}人的数，活力指数不显示",
                             "Few persons in this scope: the score is withheld so that no count under {n} can be worked out"),
    "health.live.complete": ("关键字段填写率", "Key fields filled"),
    "health.live.active": ("12 个月内有签到", "Checked in within 12 months"),
    # freshness
    "health.fresh.title": ("更新及时性", "Freshness"),
    "health.fresh.window": ("{n} 个月内更新", "Updated within {n} months"),
    "health.fresh.by": ("分组", "Group by"),
    "health.fresh.by.category": ("按类别", "By category"),
    "health.fresh.by.district": ("按区县", "By district"),
    "health.fresh.by.updated_via": ("按更新方式", "By how last updated"),
    "health.fresh.caption": (
        "各组中最近一次更新在 3 / 6 / 12 个月内的人员占比（月按 30.44 天计）。",
        "Share of each group's persons last updated within 3 / 6 / 12 months (a month = 30.44 days).",
    ),
    "health.via.import": ("表格导入", "Import"),
    "health.via.staff": ("工作人员录入", "Staff"),
    "health.via.self": ("本人填报", "Self-service"),
    "health.via.sync": ("系统同步", "Sync"),
    "health.unknown": ("未填", "Not recorded"),
    # completeness
    "health.complete.title": ("字段完整度", "Completeness"),
    "health.complete.caption": (
        "每个字段已填写的人员占比（空白视为未填；“标签”指至少有一个标签）。",
        "Share of persons with each field filled (blanks count as empty; “tags” means at least one tag).",
    ),
    "health.complete.overall": ("全部类别", "All categories"),
    "health.field.gender": ("性别", "Gender"),
    "health.field.ethnicity": ("民族", "Ethnicity"),
    "health.field.birth_date": ("出生日期", "Birth date"),
    "health.field.id_number": ("身份证号", "ID number"),
    "health.field.phone": ("手机", "Phone"),
    "health.field.party": ("政治面貌", "Party"),
    "health.field.district": ("区县", "District"),
    "health.field.street": ("街道", "Street"),
    "health.field.organization": ("工作单位", "Organization"),
    "health.field.position": ("职务", "Position"),
    "health.field.education": ("学历", "Education"),
    "health.field.title": ("职称", "Title"),
    "health.field.source": ("来源", "Source"),
    "health.field.tags": ("标签", "Tags"),
    # duplicates
    "health.dup.title": ("疑似重复", "Suspected duplicates"),
    "health.dup.summary": (
        "同名同出生日期：{groups} 组，涉及 {persons} 人；同一手机号对应不同姓名：{phone_groups} 组，涉及 {phone_persons} 人。",
        "Same name and birth date: {groups} groups, {persons} persons; one mobile under different names: "
        "{phone_groups} groups, {phone_persons} persons.",
    ),
    "health.dup.hidden": (
        "疑似重复人员名单仅对工作人员和管理员显示。",
        "The list of suspected duplicates is shown to staff and administrators only.",
    ),
    "health.dup.by_name": ("同名同出生日期", "Same name and birth date"),
    "health.dup.by_phone": ("同一手机号", "Same mobile"),
    "health.dup.by_name.caption": (
        "身份证号不同或缺失；无出生日期的人员不参与比对。点击姓名到人员查询中核对。",
        "Their ID numbers differ or are missing; persons without a birth date are not compared. "
        "Click a name to check in the explorer.",
    ),
    "health.dup.by_phone.caption": (
        "仅比对 11 位手机号（单位座机常为多人共用）。点击姓名到人员查询中核对。",
        "Only 11-digit mobiles are compared (office landlines are often shared). Click a name to check in the explorer.",
    ),
    "health.dup.none": ("未发现此类疑似重复。", "No suspected duplicates of this kind."),
    "health.dup.link": ("{name} · {birth} · {n} 人", "{name} · {birth} · {n} persons"),
    "health.dup.merge": ("并排比较、合并", "Compare and merge"),
    # batches
    "health.batch.title": ("最近导入批次", "Recent import batches"),
    "health.batch.none": ("还没有导入记录。", "No imports yet."),
    "health.batch.caption": (
        "共 {n} 个批次；数字为整个文件的统计。拒绝率 = 拒绝行数 ÷ 读取行数。",
        "{n} batches; numbers are for the whole file. Reject rate = rejected rows ÷ rows read.",
    ),
    "health.col.file_name": ("文件", "File"),
    "health.col.imported_at": ("导入时间", "Imported at"),
    "health.col.imported_by": ("导入人", "By"),
    "health.col.rows_read": ("读取行数", "Rows read"),
    "health.col.inserted": ("新增", "Inserted"),
    "health.col.updated": ("更新", "Updated"),
    "health.col.unchanged": ("未变", "Unchanged"),
    "health.col.rejected": ("拒绝", "Rejected"),
    "health.col.reject_rate": ("拒绝率", "Reject rate"),
    "health.col.status": ("状态", "Status"),
    "health.status.done": ("完成", "Done"),
    "health.status.running": ("进行中", "Running"),
    "health.status.failed": ("失败", "Failed"),
    "health.status.undone": ("已撤销", "Undone"),
    "health.status.undoing": ("撤销中", "Undoing"),
    "health.page": ("页码", "Page"),
    "health.page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
}
