"""Sample files made the way staff make them, built with openpyxl (no binary fixtures in git).

Each builder returns the path it wrote. The counts a file should import with are
spelled out next to it, so tests read as "this file gives these numbers".
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(area: str, born: str, seq: str) -> str:
    first17 = f"{area}{born}{seq}"
    return first17 + "10X98765432"[sum(int(a) * w for a, w in zip(first17, W)) % 11]


ID_WANG = make_id("330106", "19750312", "001")  # 王伟, male (odd 17th digit)
ID_LI = make_id("330105", "19820706", "002")  # 李娜, female
ID_ZHAO = make_id("330102", "19690101", "013")
ID15_CHEN = "330108680215021"  # 陈刚, 15-digit, born 1968-02-15, male
ID_CHEN = make_id("330108", "19680215", "021")
ID_SUN = make_id("330110", "19900909", "024")


def staff_workbook(path: Path) -> Path:
    """An instructions sheet, a main list with title rows and a merged two-row header,
    a summary sheet, a hidden dictionary and a second list.

    Main list: 9 person rows counted (rows 5-13), of which 2 are rejected
    (row 10: ID stored as a number; row 11: unknown category); blank, numbered-empty,
    （以下空白） and signature rows are not counted. Second list: 2 rows (both new).
    Into an empty store: rows_read 11, inserted 7, updated 1, unchanged 1, rejected 2
    (row 12 repeats 王伟 by ID and changes nothing; 第二批 row 2 is row 8's 陈刚 by ID
    and moves him to 培养).
    """
    wb = Workbook()
    guide = wb.active
    guide.title = "填表说明"
    guide["A1"] = "填表说明"
    guide["A2"] = "1. 姓名、身份证号为必填项；身份证号请设为文本格式。"
    guide["A3"] = "2. 统战对象类别请从下拉列表选择。"
    guide["A4"] = "3. 出生年月格式：1975.03"

    ws = wb.create_sheet("统战对象名单")
    ws["A1"] = "西湖区党外代表人士信息汇总表"
    ws.merge_cells("A1:L1")
    ws["A2"] = "填报单位（盖章）：北山街道            填报日期：2024年3月"
    ws.merge_cells("A2:L2")
    for col, label in zip("ABFHIJKL", ["序号", "姓　　名", "身份证号", "统战对象类别", "所属区县", "街道", "工作单位", "标签"]):
        ws[f"{col}3"] = label
        ws.merge_cells(f"{col}3:{col}4")
    ws["C3"] = "基本信息"
    ws.merge_cells("C3:E3")
    ws["C4"], ws["D4"], ws["E4"] = "性别", "出生年月（例：1975.03）", "民族"
    ws["G3"] = "联系方式"
    ws["G4"] = "手机号码"
    rows = [
        # 5: text ID, month-only birth date agreeing with the ID
        [1, "王　伟", "男", "1975.03", "汉族", ID_WANG, "138 1234 5678", "（六）非公有制经济人士", "西湖区", "北山街道", "杭州某某科技有限公司", "企业家、政协委员"],
        # 6: real date cell, full-width digits in the phone, old district name 下城区
        [2, "李娜", "女", dt.date(1982, 7, 6), "汉", ID_LI, "１３９００００１１１１", "党外知识分子", "下城区", "", "浙江大学", "专家"],
        # 7: no ID, mobile only
        [3, "张敏", "女", "", "回族", "", "13700001111", "少数民族", "杭州市上城区", "湖滨街道", "", ""],
        # 8: 15-digit ID stored as a number
        [4, "陈刚", "", "", "", float(ID15_CHEN), "", "宗教界", "滨江", "", "", ""],
        # 9: name + birth date only, birth as text 19900909
        [5, "孙悦", "女", "19900909", "", "", "", "新阶层", "余杭区", "", "", "青年"],
        # 10: 18-digit ID stored as a number -> rejected (precision lost)
        [6, "周杰", "男", "", "", 330106197503120015.0, "", "侨界", "", "", "", ""],
        # 11: unknown category -> rejected
        [7, "吴刚", "男", "1970-01-01", "", "", "13600001111", "外星人", "", "", "", ""],
        # 12: 王伟 again by ID: nothing new -> unchanged
        [8, "王伟", "", "", "", ID_WANG, "", "", "", "", "", ""],
        # 13: 赵强, ID with lower-case x? (valid digit) and a gender that disagrees with the ID
        [9, "赵强", "女", "", "", ID_ZHAO, "", "民主党派成员", "江干区", "白杨街道", "", ""],
        # 14: blank row
        [None] * 12,
        # 15: numbered empty row
        [10] + [None] * 11,
        # 16: （以下空白）
        ["（以下空白）"] + [None] * 11,
    ]
    for i, row in enumerate(rows, start=5):
        for j, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=i, column=j, value=value)
    ws["F5"].number_format = "@"
    # 17: signatures across mapped columns
    ws["B17"], ws["F17"], ws["K17"] = "填表人：刘洋", "审核人：陈静", "联系电话：0571-88888888"
    # formatting far below the data, as staff spreadsheets carry
    for r in range(18, 400):
        ws.cell(row=r, column=2).font = Font(bold=True)

    summary = wb.create_sheet("汇总")
    summary.append(["区县", "人数"])
    summary.append(["西湖区", 5])

    dictionary = wb.create_sheet("字典")
    dictionary.append(["类别", "政治面貌"])
    dictionary.append(["民主党派成员", "民革党员"])
    dictionary.sheet_state = "hidden"

    second = wb.create_sheet("第二批")
    second.append(["序号", "姓名", "性别", "身份证号码", "手机", "人员类别", "工作阶段"])
    second.append([1, "陈刚", "男", ID_CHEN, "", "宗教界", "培养"])  # same person as row 8 (15->18)
    second.append([2, "钱多", "男", "", "15800001111", "非公经济人士", "使用"])
    wb.save(path)
    return path


def simple_workbook(path: Path, header: list, rows: list[list], *, sheet: str = "Sheet1", text_columns=()) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    for col in text_columns:
        for cell in ws[col]:
            cell.number_format = "@"
    wb.save(path)
    return path


def patch_sheet_xml(path: Path, sheet_part: str, patch) -> Path:
    """Rewrite one part of a saved workbook (for things openpyxl cannot write, like cached formula values)."""
    src = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == sheet_part:
                data = patch(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    path.write_bytes(out.getvalue())
    return path


def formula_workbook(path: Path) -> Path:
    """Formula cells with cached values (as Excel saves them): the cached value is read."""
    simple_workbook(path, ["姓名", "手机", "统战对象类别", "工作单位"],
                    [["王伟", "13812345678", "非公经济人士", '="杭州"&"某某公司"'],
                     ["李娜", "13912345678", "党外知识分子", "=1/0"]])

    def patch(xml: str) -> str:
        xml = re.sub(r'<c r="D2"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                     r'<c r="D2" t="str"><f>\2</f><v>杭州某某公司</v></c>', xml)
        return re.sub(r'<c r="D3"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                      r'<c r="D3" t="e"><f>\2</f><v>#DIV/0!</v></c>', xml)

    return patch_sheet_xml(path, "xl/worksheets/sheet1.xml", patch)


def many_empty_rows_workbook(path: Path, empty_rows: int, *, with_empty_strings: bool = False) -> Path:
    """Two people, then `empty_rows` formatted but empty rows (as a whole-column format leaves)."""
    simple_workbook(path, ["姓名", "手机", "统战对象类别"],
                    [["王伟", "13812345678", "非公经济人士"], ["李娜", "13912345678", "党外知识分子"]])
    cell = '<c r="A{r}" s="0" t="inlineStr"><is><t></t></is></c>' if with_empty_strings else '<c r="A{r}" s="1"/>'

    def patch(xml: str) -> str:
        extra = "".join(f'<row r="{r}">{cell.format(r=r)}</row>' for r in range(4, 4 + empty_rows))
        xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:C{3 + empty_rows}"/>', xml)
        return xml.replace("</sheetData>", extra + "</sheetData>")

    return patch_sheet_xml(path, "xl/worksheets/sheet1.xml", patch)


CSV_HEADER = "序号,姓名,性别,身份证号,手机号码,政治面貌,统战对象类别,所属区县\n"
CSV_ROWS = (
    f"1,王伟,男,{ID_WANG},13812345678,民盟盟员,非公经济人士,西湖区\n"
    f"2,李娜,女,{ID_LI},,九三学社社员,知识分子,拱墅区\n"
    "3,,,,,,,\n"
    "（以下空白）,,,,,,,\n"
)


def csv_file(path: Path, encoding: str) -> Path:
    path.write_bytes((CSV_HEADER + CSV_ROWS).encode(encoding))
    return path
