from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("profile/", views.profile, name="profile"),
    path("profile/email/", views.profile_email, name="profile_email"),
    path("profile/sessions/", views.sessions_end, name="sessions_end"),
    path("profile/delete/", views.account_delete, name="account_delete"),
    path("profile/tokens/", views.token_new, name="token_new"),
    path(
        "profile/tokens/<int:token_id>/revoke/",
        views.token_revoke_view,
        name="token_revoke",
    ),
    path("profile/bots/", views.bot_new, name="bot_new"),
    path("profile/bots/<int:bot_id>/delete/", views.bot_delete_view, name="bot_delete"),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    # Django's names: its views and reset mails find these pages by them.
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
