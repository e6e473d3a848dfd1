from django.urls import path

from linli.cases.views import hotline, maps, posters, public, resident, workbench

app_name = "cases"
urlpatterns = [
    # residents (phone)
    path("report/", resident.report, name="report"),
    path("report/nearby/", resident.report_nearby, name="report_nearby"),
    path("report/done/<int:case_id>/", resident.report_done, name="report_done"),
    path("q/<str:token>/", resident.qr_entry, name="qr"),
    path("<int:case_id>/follow/", resident.follow, name="follow"),
    path("<int:case_id>/photos/<int:attachment_id>/", resident.photo, name="photo"),
    path("mine/", resident.mine, name="mine"),
    path("mine/<int:case_id>/", resident.mine_detail, name="mine_detail"),
    path("mine/<int:case_id>/<str:action>/", resident.mine_act, name="mine_act"),
    # 公示
    path("public/", public.public_list, name="public"),
    path("public/pins/", maps.public_pins, name="public_pins"),
    path("public/<int:case_id>/", public.public_detail, name="public_detail"),
    path("public/<int:case_id>/photos/<int:attachment_id>/", public.public_photo, name="public_photo"),
    # staff workbench (desktop)
    path("wb/", workbench.queue, name="workbench"),
    path("wb/new/", workbench.intake, name="intake"),
    path("wb/new/similar/", workbench.intake_similar, name="intake_similar"),
    path("wb/import/", hotline.hotline_upload, name="hotline_import"),
    path("wb/bulk-assign/", workbench.bulk_assign, name="bulk_assign"),
    path("wb/overdue/", workbench.overdue, name="overdue"),
    path("wb/map/", maps.staff_map, name="map"),
    path("wb/map/pins/", maps.staff_pins, name="map_pins"),
    path("wb/qr/", posters.poster_list, name="posters"),
    path("wb/qr/<int:building_id>/", posters.poster, name="poster"),
    path("wb/qr/<int:building_id>/qr.svg", posters.poster_svg, name="poster_svg"),
    path("wb/qr/<int:building_id>/poster.svg", posters.poster_download, name="poster_download"),
    path("wb/qr/<int:building_id>/poster.pdf", posters.poster_pdf, name="poster_pdf"),
    path("wb/<int:case_id>/", workbench.detail, name="detail"),
    path("wb/<int:case_id>/act/<str:action>/", workbench.act, name="act"),
    path("wb/<int:case_id>/reveal/", workbench.reveal, name="reveal"),
    path("wb/<int:case_id>/caller/", workbench.caller_follow, name="caller_follow"),
]
