"""What each audit action means, in Chinese, for the auditor's screen and exports."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "auth.login": _("登录"),
    "auth.logout": _("退出登录"),
    "auth.lockout": _("登录锁定"),
    "auth.otp": _("动态口令验证"),
    "auth.otp_enrol": _("绑定动态口令"),
    "auth.backup_codes": _("重置备用码"),
    "auth.password_change": _("修改密码"),
    "access.denied": _("越权访问被拒绝"),
    "role.grant": _("授予角色"),
    "role.change": _("修改角色授权"),
    "role.revoke": _("撤销角色"),
    "account.add": _("新建账号"),
    "account.change": _("修改账号"),
    "account.delete": _("删除账号"),
    "pii.read": _("查看个人信息"),
    "pii.reveal": _("查看完整个人信息"),
    "data.import": _("导入数据"),
    "data.export": _("导出数据"),
    "data.add": _("新增记录"),
    "data.change": _("修改记录"),
    "data.delete": _("删除记录"),
    "config.add": _("新增配置"),
    "config.change": _("修改配置"),
    "config.delete": _("删除配置"),
    "config.import": _("导入配置"),
    "audit.export": _("导出审计日志"),
    "audit.prune": _("清理过期审计日志"),
    "backup.create": _("数据库备份"),
    "backup.restore": _("数据库恢复"),
    "security.otp_reset": _("重置动态口令"),
    "security.unlock": _("解除登录锁定"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
