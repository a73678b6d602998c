from django.urls import path, re_path

from peer.views import PaymentWizard, named_wizard

urlpatterns = [
    # SessionWizardView: one address; a valid POST is answered with the next step's page.
    path("wizard/", PaymentWizard.as_view(), name="wizard"),
    # NamedUrlSessionWizardView (the --view named variant): one address per step, and a valid
    # POST is answered with a redirect to the next step's address (Post/Redirect/Get, as ours).
    re_path(r"^named/(?P<step>[^/]+)/$", named_wizard, name="named_step"),
    path("named/", named_wizard, name="named"),
]
