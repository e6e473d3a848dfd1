from django.urls import path

from linli.people.views import care, register, stewards

app_name = "people"
urlpatterns = [
    # the register (desktop) and the grid worker's households (mobile)
    path("", register.register, name="register"),
    path("mine/", register.mine, name="mine"),
    path("buildings/<int:building_id>/", register.building, name="building"),
    path("buildings/<int:building_id>/qr/", stewards.card_qr, name="card_qr"),
    path("households/<int:household_id>/", register.household, name="household"),
    path("residents/<int:resident_id>/", register.resident, name="resident"),
    path("residents/<int:resident_id>/reveal/", register.reveal, name="reveal"),
    path("residents/<int:resident_id>/move-out/", register.move_out, name="move_out"),
    path("lookup/", register.lookup, name="lookup"),
    path("import/", register.import_view, name="import"),
    path("import/template.xlsx", register.import_template, name="import_template"),
    path("export/", register.export, name="export"),
    # the care registry (分类分色)
    path("care/", care.care_list, name="care_list"),
    path("care/new/<int:resident_id>/", care.care_open, name="care_open"),
    path("care/<int:record_id>/", care.care_detail, name="care_detail"),
    path("care/<int:record_id>/visit/", care.care_visit, name="care_visit"),
    path("care/<int:record_id>/level/", care.care_level, name="care_level"),
    path("care/<int:record_id>/close/", care.care_close, name="care_close"),
    path("care/visits/<int:visit_id>/photos/<int:photo_id>/", care.care_photo, name="care_photo"),
    # grid workers and stewards; the public 三亮 card
    path("stewards/", stewards.stewards, name="stewards"),
    path("stewards/<int:steward_id>/", stewards.steward, name="steward"),
    path("stewards/<int:steward_id>/photo/", stewards.steward_photo, name="steward_photo"),
    path("building/<str:code>/card/", stewards.card, name="card"),
]
