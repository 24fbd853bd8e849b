// After a security key is added, go on to where the person was headed.
document.addEventListener("otp_webauthn.register_complete", () => {
  const box = document.getElementById("security-key-enrolment");
  window.location.assign((box && box.dataset.next) || "/");
});
