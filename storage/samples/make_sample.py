"""Build the sample appendix shipped with tiendo: `python -m storage.samples.make_sample`.

Modelled on Decision 284/QĐ-UBND: 9 groups, tasks numbered from 1 in each group, units spelled
as offices really write them, every deadline wording the importer understands.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from storage.samples.builder import AppendixGroup, AppendixTask, Layout, write_appendix

SAMPLE_PATH = Path(__file__).with_name("ke_hoach_mau.xlsx")
T = AppendixTask

GROUPS = [
    AppendixGroup(
        "I",
        "Công tác tuyên truyền, nâng cao nhận thức",
        [
            T(
                1,
                "Tuyên truyền sâu rộng Nghị quyết số 03-NQ/TU về chuyển đổi số thành phố trên các "
                "phương tiện thông tin đại chúng",
                "Sở TT&TT",
                "Báo Hải Phòng; Đài PT&TH Hải Phòng",
                "Thường xuyên",
                "Chuyên trang, chuyên mục về chuyển đổi số",
            ),
            T(
                2,
                "Tổ chức hội nghị, hội thảo chuyên đề về chuyển đổi số cho cán bộ lãnh đạo các cấp",
                "Sở Thông tin và Truyền thông",
                "Các sở, ban, ngành; UBND các quận, huyện",
                "Hằng năm",
                "Hội nghị, hội thảo",
            ),
            T(
                3,
                "Xây dựng bộ tài liệu tuyên truyền về chuyển đổi số cho người dân và doanh nghiệp",
                "STTTT",
                "Sở Văn hóa và Thể thao, Sở Du lịch",
                "Quý II/2022",
                "Bộ tài liệu tuyên truyền",
            ),
            T(
                4,
                "Phát động phong trào thi đua chuyển đổi số trong các cơ quan nhà nước",
                "Sở Nội vụ",
                "Sở TT&TT",
                "Tháng 6/2022",
                "Kế hoạch phát động phong trào",
            ),
            T(
                5,
                "Đẩy mạnh tuyên truyền ứng dụng dịch vụ công trực tuyến mức độ 4 tại các xã, "
                "phường",
                "UBND các quận, huyện",
                "Sở TTTT",
                "Hàng năm",
                "Số lượt tuyên truyền",
            ),
        ],
    ),
    AppendixGroup(
        "II",
        "Công tác xây dựng thể chế, cơ chế chính sách",
        [
            T(
                1,
                "Xây dựng Đề án chuyển đổi số thành phố Hải Phòng giai đoạn 2022-2025",
                "Sở TT&TT",
                "Sở KH&ĐT; Sở Tài chính",
                "Quý IV/2022",
                "Đề án trình UBND thành phố",
            ),
            T(
                2,
                "Ban hành quy chế quản lý, vận hành, khai thác Trung tâm điều hành thông minh",
                "Sở Thông tin và Truyền thông",
                "VP UBND TP, Công an TP",
                "Trước 30/6/2022",
                "Quyết định ban hành quy chế",
            ),
            T(
                3,
                "Rà soát, đề xuất sửa đổi các quy định không còn phù hợp với môi trường số",
                "Sở Tư pháp",
                "Các sở, ban, ngành",
                "Năm 2022",
                "Báo cáo rà soát",
            ),
            T(
                4,
                "Xây dựng cơ chế khuyến khích doanh nghiệp công nghệ số đầu tư tại thành phố",
                "Sở Kế hoạch và Đầu tư",
                "Sở TT&TT, Sở Tài chính và BQL KKT",
                "Quý III/2022",
                "Nghị quyết của HĐND thành phố",
            ),
            T(
                5,
                "Ban hành quy định về định mức chi cho hoạt động chuyển đổi số",
                "Sở Tài chính",
                "STTTT",
                date(2022, 9, 30),
                "Quyết định của UBND thành phố",
            ),
        ],
    ),
    AppendixGroup(
        "III",
        "Phát triển nền tảng, hạ tầng số",
        [
            T(
                1,
                "Nâng cấp mạng truyền số liệu chuyên dùng đến 100% xã, phường, thị trấn",
                "Sở TT&TT",
                "VNPT Hải Phòng, Viettel Hải Phòng",
                "Giai đoạn 2022-2025",
                "Hạ tầng mạng đã nâng cấp",
            ),
            T(
                2,
                "Phủ sóng 4G/5G toàn bộ khu dân cư, khu công nghiệp, khu kinh tế",
                "Các doanh nghiệp viễn thông",
                "Sở TT&TT; BQL KKT",
                "2022–2025",
                "Tỷ lệ phủ sóng",
            ),
            T(
                3,
                "Xây dựng Trung tâm dữ liệu thành phố theo mô hình điện toán đám mây",
                "Sở TT&TT",
                "Sở KH&ĐT, Sở Tài chính",
                "Năm 2023",
                "Trung tâm dữ liệu đi vào vận hành",
            ),
            T(
                4,
                "Triển khai nền tảng tích hợp, chia sẻ dữ liệu (LGSP) kết nối với NDXP",
                "STTTT",
                "Văn phòng UBND thành phố",
                "Quý I/2023",
                "LGSP vận hành",
            ),
            T(
                5,
                "Xây dựng hạ tầng IoT phục vụ giao thông, môi trường đô thị thông minh",
                "Sở Giao thông vận tải",
                "Sở TN&MT, Sở TT&TT",
                "Giai đoạn 2026-2027",
                "Hệ thống cảm biến",
            ),
        ],
    ),
    AppendixGroup(
        "IV",
        "Phát triển dữ liệu",
        [
            T(
                1,
                "Xây dựng cơ sở dữ liệu dùng chung về đất đai thành phố",
                "Sở TN&MT",
                "UBND các quận, huyện",
                "Quý IV/2023",
                "Cơ sở dữ liệu đất đai",
            ),
            T(
                2,
                "Xây dựng cơ sở dữ liệu chuyên ngành y tế, hồ sơ sức khỏe điện tử",
                "Sở Y tế",
                "Bảo hiểm xã hội thành phố",
                "6 tháng cuối năm 2023",
                "Hồ sơ sức khỏe điện tử",
            ),
            T(
                3,
                "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính còn hiệu lực",
                "VP UBND TP",
                "Các sở, ngành, địa phương",
                "Tháng 12/2022",
                "Kho dữ liệu số hóa",
            ),
            T(
                4,
                "Xây dựng cơ sở dữ liệu ngành giáo dục và đào tạo",
                "Sở GD&ĐT",
                "Sở TT&TT",
                "Năm 2022-2023",
                "Cơ sở dữ liệu giáo dục",
            ),
            T(
                5,
                "Công bố danh mục dữ liệu mở của thành phố",
                "Sở TT&TT",
                "Các cơ quan, đơn vị liên quan",
                "30/6/2027",
                "Cổng dữ liệu mở",
            ),
        ],
    ),
    AppendixGroup(
        "V",
        "Bảo đảm quốc phòng, an ninh, an toàn thông tin mạng",
        [
            T(
                1,
                "Triển khai mô hình bảo vệ 4 lớp cho các hệ thống thông tin của thành phố",
                "Sở TT&TT",
                "Công an TP; Bộ CHQS TP",
                "Quý IV/2022",
                "Hệ thống giám sát an toàn thông tin",
            ),
            T(
                2,
                "Diễn tập ứng cứu sự cố an toàn thông tin mạng",
                "Sở Thông tin và Truyền thông",
                "Công an thành phố",
                "Hằng năm",
                "Cuộc diễn tập",
            ),
            T(
                3,
                "Phòng chống tội phạm sử dụng công nghệ cao",
                "Công an TP",
                "Sở TT&TT",
                "Thường xuyên",
                "Báo cáo định kỳ",
            ),
            T(
                4,
                "Bảo đảm an ninh mạng cho hệ thống thông tin quân sự địa phương",
                "Bộ CHQS TP",
                "",
                "Năm 2024",
                "Phương án bảo đảm",
            ),
        ],
    ),
    AppendixGroup(
        "VI",
        "Phát triển nguồn nhân lực",
        [
            T(
                1,
                "Đào tạo, bồi dưỡng kỹ năng số cho cán bộ, công chức, viên chức",
                "Sở Nội vụ",
                "Sở TT&TT",
                "Hằng năm",
                "Số lượt cán bộ được đào tạo",
            ),
            T(
                2,
                "Tuyển dụng, thu hút nhân lực công nghệ thông tin chất lượng cao",
                "Sở Nội vụ",
                "Các sở, ban, ngành",
                "Giai đoạn 2022-2025",
                "Số cán bộ được tuyển dụng",
            ),
            T(
                3,
                "Đưa nội dung kỹ năng số vào chương trình giáo dục phổ thông",
                "Sở Giáo dục và Đào tạo",
                "",
                "Năm học 2022-2023",
                "Chương trình giảng dạy",
            ),
            T(
                4,
                "Phổ cập kỹ năng số cho người dân thông qua tổ công nghệ số cộng đồng",
                "UBND các quận, huyện",
                "Sở TT&TT, Thành đoàn",
                "6 tháng đầu năm 2023",
                "Tổ công nghệ số cộng đồng",
            ),
        ],
    ),
    AppendixGroup(
        "VII",
        "Phát triển chính quyền số",
        [
            T(
                1,
                "Cung cấp 100% dịch vụ công đủ điều kiện lên trực tuyến mức độ 4",
                "VP UBND TP",
                "Sở TT&TT; Các sở, ban, ngành",
                "Quý IV/2022",
                "Cổng dịch vụ công thành phố",
            ),
            T(
                2,
                "Triển khai hệ thống quản lý văn bản và điều hành liên thông 4 cấp",
                "Sở TT&TT",
                "Văn phòng UBND thành phố",
                "30/06/2022",
                "Hệ thống vận hành",
            ),
            T(
                3,
                "Xây dựng Trung tâm giám sát, điều hành đô thị thông minh (IOC)",
                "Sở TT&TT",
                "Công an TP, Sở GTVT, Sở TN&MT",
                "Năm 2023",
                "IOC vận hành",
            ),
            T(
                4,
                "Số hóa quy trình tiếp nhận, giải quyết hồ sơ tại bộ phận một cửa các cấp",
                "UBND các quận, huyện",
                "VP UBND TP",
                "Tháng 9/2022",
                "Hồ sơ được số hóa",
            ),
            T(
                5,
                "Triển khai chữ ký số cho cán bộ, công chức các cấp",
                "Sở TT&TT",
                "Sở Nội vụ",
                "Trước 31/12/2022",
                "Chữ ký số được cấp",
            ),
            T(
                6,
                "Ứng dụng chuyển đổi số tại UBND huyện Thuỷ Nguyên",
                "UBND huyện Thủy Nguyên",
                "Sở TTTT",
                "Quý II/2023",
                "Mô hình huyện điểm",
            ),
            T(
                7,
                "Ứng dụng chuyển đổi số tại huyện đảo Bạch Long Vỹ",
                "UBND huyện Bạch Long Vĩ",
                "Sở TT&TT, Bộ CHQS TP",
                "Năm 2024",
                "Mô hình huyện đảo số",
            ),
        ],
    ),
    AppendixGroup(
        "VIII",
        "Phát triển kinh tế số",
        [
            T(
                1,
                "Hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số",
                "Sở Kế hoạch và Đầu tư",
                "Sở Công Thương, Sở TT&TT",
                "Giai đoạn 2022-2025",
                "Số doanh nghiệp được hỗ trợ",
            ),
            T(
                2,
                "Phát triển thương mại điện tử, đưa sản phẩm OCOP lên sàn",
                "Sở Công Thương",
                "Sở NN&PTNT",
                "Hằng năm",
                "Số sản phẩm trên sàn thương mại điện tử",
            ),
            T(
                3,
                "Chuyển đổi số trong hoạt động cảng biển, logistics",
                "Sở GTVT",
                "BQL KKT; Cục Hải quan TP",
                "Năm 2025",
                "Nền tảng logistics",
            ),
            T(
                4,
                "Thanh toán không dùng tiền mặt trong dịch vụ công",
                "Sở Tài chính",
                "Ngân hàng Nhà nước chi nhánh Hải Phòng, Kho bạc Nhà nước Hải Phòng",
                "Quý III/2023",
                "Tỷ lệ giao dịch không tiền mặt",
            ),
            T(
                5,
                "Phát triển du lịch thông minh",
                "Sở Du lịch",
                "Sở TT&TT",
                "Tháng 6/2026",
                "Ứng dụng du lịch thông minh",
            ),
        ],
    ),
    AppendixGroup(
        "IX",
        "Phát triển xã hội số",
        [
            T(
                1,
                "Triển khai ứng dụng công dân số Hải Phòng",
                "Sở TT&TT",
                "Công an TP",
                "Quý I/2027",
                "Ứng dụng công dân số",
            ),
            T(
                2,
                "Triển khai y tế số, đặt lịch khám chữa bệnh trực tuyến",
                "Sở Y tế",
                "Sở TT&TT",
                "Năm 2023",
                "Tỷ lệ cơ sở y tế triển khai",
            ),
            T(
                3,
                "Chuyển đổi số trong giáo dục: học bạ số, thanh toán học phí không tiền mặt",
                "Sở GD&ĐT",
                "UBND các quận, huyện",
                "2022-2025",
                "Học bạ số",
            ),
            T(
                4,
                "Chi trả chính sách an sinh xã hội qua tài khoản",
                "Sở Lao động, Thương binh và Xã hội",
                "Bưu điện thành phố Hải Phòng",
                "Quý IV/2026",
                "Tỷ lệ chi trả qua tài khoản",
            ),
        ],
    ),
]

LAYOUT = Layout(
    titles=(
        "PHỤ LỤC",
        "CHƯƠNG TRÌNH HÀNH ĐỘNG THỰC HIỆN NGHỊ QUYẾT SỐ 03-NQ/TU VỀ CHUYỂN ĐỔI SỐ",
        "(Kèm theo Quyết định số 284/QĐ-UBND ngày 24/01/2022 của UBND thành phố)",
    ),
    footer=("Ghi chú: các cơ quan chủ trì báo cáo kết quả định kỳ hằng tháng trước ngày 15.",),
)


def build(path: Path = SAMPLE_PATH) -> Path:
    return write_appendix(path, GROUPS, LAYOUT)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_PATH))
