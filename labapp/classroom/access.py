"""Access to classes. Each helper returns what the user may see or raises Http404.

An instructor or teaching assistant sees only the classes they are a member of in that role; anyone
else (a learner of the class, another instructor) gets "not found", so class ids are not even
confirmed to exist. Teaching assistants read (gradebook, details, insight, exports) and change nothing:
a change they attempt is refused with 403, since they do know the class.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Assignment, Classroom, Membership
from .services import can_create_classes


def staff_memberships(user):
    return Membership.objects.filter(user=user, role__in=Membership.STAFF).select_related("classroom")


def is_teaching(user) -> bool:
    """Whether the instructor area exists for this user at all."""
    return can_create_classes(user) or staff_memberships(user).exists()


def require_teaching(user) -> None:
    if not user.is_authenticated or not is_teaching(user):
        raise Http404


def get_class_for_staff(request, class_id: int, *, write: bool = False) -> tuple[Classroom, Membership]:
    membership = (
        Membership.objects.filter(classroom_id=class_id, user=request.user, role__in=Membership.STAFF)
        .select_related("classroom").first()
    )
    if membership is None:
        raise Http404
    if write and membership.role != Membership.Role.INSTRUCTOR:
        raise PermissionDenied("Teaching assistants have a read-only view of the class.")
    return membership.classroom, membership


def get_assignment(classroom: Classroom, assignment_id: int) -> Assignment:
    return get_object_or_404(Assignment.objects.select_related("lab", "module", "classroom"),
                             pk=assignment_id, classroom=classroom)


def get_learner(classroom: Classroom, user_id: int):
    membership = get_object_or_404(
        Membership.objects.select_related("user"), classroom=classroom, user_id=user_id, role=Membership.Role.LEARNER
    )
    return membership.user
